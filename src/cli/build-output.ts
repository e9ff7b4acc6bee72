/** Build output for people: each line on stderr, prefixed with the image it belongs to. */
import type { BuildOptions } from '../ops/build.js';

export function buildProgress(): Pick<BuildOptions, 'onStart' | 'onOutput'> {
  return {
    onStart: (b) => process.stderr.write(`building ${b.image} from ${b.context} (${b.dockerfile})\n`),
    onOutput: (image, line) => process.stderr.write(`[${image}] ${line}\n`),
  };
}
