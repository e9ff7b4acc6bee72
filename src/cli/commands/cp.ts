import type { Command } from 'commander';
import { AgentctlError, EXIT } from '../../errors.js';
import { copy, type CopyResult } from '../../ops/cp.js';
import { humanBytes } from '../../render/units.js';
import { outputOption, printJson, type OutputFormat } from '../io.js';
import { exitQuietlyOnClosedPipe } from '../stdio.js';
import { engineOption, projectOption, resolveTarget, targetFileOption, type TargetFlags } from '../target.js';

export function registerCp(program: Command): void {
  program
    .command('cp <src> <dest>')
    .description(
      'copy files or directories between the host and an agent: ID:/path on one side (relative agent paths are under /mnt); `-` is a tar stream on stdin or stdout',
    )
    .addOption(targetFileOption())
    .addOption(projectOption())
    .addOption(engineOption())
    .addOption(outputOption())
    .action(async (src: string, dest: string, flags: TargetFlags & { output: OutputFormat }) => {
      const toStdout = dest === '-';
      refuseStreamMisuse(src === '-', toStdout, flags.output);
      const { project, desired, engine } = await resolveTarget(flags);
      // The tar owns stdout: a reader that goes away (`| head`) ends the copy quietly.
      if (toStdout) exitQuietlyOnClosedPipe();
      const r = await copy(src, dest, {
        project,
        desired,
        engine,
        ...(src === '-' && { stdin: process.stdin as AsyncIterable<Buffer> }),
        ...(toStdout && { stdout: process.stdout }),
      });
      if (flags.output === 'json') printJson(r);
      else (toStdout ? process.stderr : process.stdout).write(`${summary(r)}\n`);
      if (r.skipped.length > 0) {
        for (const s of r.skipped) process.stderr.write(`agentctl: not copied: ${s}\n`);
        process.stderr.write(
          `agentctl: ${r.skipped.length} entr${r.skipped.length === 1 ? 'y was' : 'ies were'} not copied\n`,
        );
        process.exitCode = EXIT.failure;
      }
    });
}

/** A tar stream is for pipes and files: a terminal can neither type one nor show one. */
function refuseStreamMisuse(fromStdin: boolean, toStdout: boolean, output: OutputFormat): void {
  if (toStdout && output === 'json') {
    throw new AgentctlError('usage', 'cp to `-` writes the tar to stdout: -o json cannot go there too');
  }
  if (toStdout && process.stdout.isTTY) {
    throw new AgentctlError(
      'usage',
      'cp to `-` writes a tar stream, and stdout is a terminal: redirect it (> out.tar) or pipe it (| tar -x)',
    );
  }
  if (fromStdin && process.stdin.isTTY) {
    throw new AgentctlError(
      'usage',
      'cp from `-` reads a tar stream from stdin, which is a terminal: pipe one in (tar -c dir | agentctl cp - ID:/mnt/)',
    );
  }
}

function summary(r: CopyResult): string {
  const what = [
    `${r.files} file(s)`,
    ...(r.directories ? [`${r.directories} director${r.directories === 1 ? 'y' : 'ies'}`] : []),
    ...(r.links ? [`${r.links} link(s)`] : []),
  ].join(', ');
  const skipped = r.skipped.length > 0 ? `, ${r.skipped.length} skipped` : '';
  const side = (s: string, stream: string) => (s === '-' ? `${stream} (tar)` : s);
  return `copied ${what}, ${humanBytes(r.bytes)}${skipped}: ${side(r.source, 'stdin')} -> ${side(r.destination, 'stdout')}`;
}
