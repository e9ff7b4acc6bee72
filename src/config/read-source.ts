/** Reading the config text from a file or from stdin, with errors that name the path. */
import { createReadStream } from 'node:fs';
import { AgentctlError } from '../errors.js';

/** Far above any real fleet file; protects against `-f /dev/zero` and the like. */
const MAX_BYTES = 4 * 1024 * 1024;

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  ENOTDIR: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory, not an agents.yaml file',
};

export async function readConfigFile(file: string): Promise<string> {
  try {
    return await readText(createReadStream(file), file);
  } catch (err) {
    if (err instanceof AgentctlError) throw err;
    const reason = REASONS[(err as NodeJS.ErrnoException).code ?? ''] ?? (err as Error).message;
    throw new AgentctlError('config', `cannot read config file ${file}: ${reason}`, { cause: err });
  }
}

export function readStdin(): Promise<string> {
  return readText(process.stdin, '<stdin>');
}

async function readText(chunks: AsyncIterable<Buffer | string>, label: string): Promise<string> {
  const buffers: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += buffer.length;
    if (size > MAX_BYTES)
      throw new AgentctlError('config', `${label} is larger than ${MAX_BYTES / 1024 / 1024} MiB`);
    buffers.push(buffer);
  }
  try {
    // fatal: a binary file given by mistake is reported rather than parsed as garbage. A BOM is dropped.
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(buffers));
  } catch (err) {
    throw new AgentctlError('config', `${label} is not UTF-8 text`, { cause: err });
  }
}
