import type { Command } from 'commander';
import { AgentctlError, EXIT } from '../../errors.js';
import { buildImages } from '../../ops/build.js';
import { buildToJson } from '../../render/json-results.js';
import { buildProgress } from '../build-output.js';
import { fileOption, loadDesired, outputOption, printJson, type OutputFormat } from '../io.js';

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('build every image the file declares with `build:` (paths relative to the file)')
    .addOption(fileOption())
    .addOption(outputOption())
    .option('--no-cache', 'do not use the build cache')
    .option('--pull', 'try to pull newer versions of the base images')
    .action(async (opts: { file: string; output: OutputFormat; cache: boolean; pull?: boolean }) => {
      const desired = await loadDesired(opts.file);
      if (desired.builds.length === 0) {
        throw new AgentctlError(
          'usage',
          `${desired.file} declares no image to build (add build: { context: ... } to an agent)`,
        );
      }
      const results = await buildImages(desired.builds, {
        noCache: !opts.cache,
        pull: opts.pull,
        ...buildProgress(),
      });
      if (opts.output === 'json') printJson(buildToJson(desired.project, results));
      else {
        for (const r of results) {
          const secs = (r.durationMs / 1000).toFixed(1);
          process.stdout.write(
            r.ok
              ? `built ${r.image} (${r.imageId?.slice(7, 19)}) in ${secs}s\n`
              : `FAILED ${r.image}: ${r.error}\n`,
          );
        }
      }
      if (results.some((r) => !r.ok)) process.exitCode = EXIT.failure;
    });
}
