/** The directory agentctl is installed in (where package.json and schemas/ are), from any of its files. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(from: string = import.meta.url): string {
  // Bundled chunks live at different depths under dist/: walk up to our package.json.
  let dir = path.dirname(fileURLToPath(from));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'agentctl')
      return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`agentctl's package.json not found above ${fileURLToPath(from)}`);
    dir = up;
  }
}
