import type { Command } from 'commander';
import { stringify } from 'yaml';
import { type AgentRecord, inspectAgent } from '../../ops/inspect.js';
import { LOCAL_ENGINE } from '../../types.js';
import { agentRecordToJson } from '../../render/json.js';
import { formatBytes, formatCpus, humanBytes } from '../../render/units.js';
import { outputOption, printJson, type OutputFormat } from '../io.js';
import { pressureFlag, pressureText } from '../../reconcile/free-space.js';
import { engineOption, projectOption, resolveTarget, targetFileOption, type TargetFlags } from '../target.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect <id>')
    .description('one agent: its spec, state, limits, working directory and its disk use, image')
    .addOption(targetFileOption())
    .addOption(projectOption())
    .addOption(engineOption())
    .addOption(outputOption())
    .action(async (id: string, flags: TargetFlags & { output: OutputFormat }) => {
      const { project, desired, engine } = await resolveTarget(flags);
      const record = await inspectAgent(id, { project, desired, engine });
      if (flags.output === 'json') printJson(agentRecordToJson(record));
      else process.stdout.write(renderRecord(record));
    });
}

export function renderRecord(r: AgentRecord): string {
  const lines: [string, string | undefined][] = [
    ['agent', r.agent],
    ['project', r.project],
    // Only where there is a choice: a one-engine setup reads as before.
    ['engine', r.engine === LOCAL_ENGINE ? undefined : r.engine],
    ['container', `${r.container} (${r.containerId.slice(0, 12)})`],
    ['state', r.state + (r.exitCode !== undefined ? ` (exit code ${r.exitCode})` : '')],
    ['created', r.createdAt],
    ['started', r.startedAt],
    ['finished', r.finishedAt],
    ['oom killed', r.oomKilled ? 'yes' : undefined],
    ['health', r.health ? healthText(r.health) : undefined],
    ['image', r.image + (r.imageVersion ? ` (version ${r.imageVersion})` : '')],
    ['image id', r.imageId.replace(/^sha256:/, '').slice(0, 12)],
    [
      'limits',
      `memory ${formatBytes(r.limits.memoryBytes)}, cpus ${formatCpus(r.limits.nanoCpus)}, pids ${r.limits.pids}, restart ${r.limits.restart}`,
    ],
    ['working dir', r.workDir],
    ['disk use', r.disk ? `${r.disk.complete ? '' : 'at least '}${humanBytes(r.disk.bytes)}` : undefined],
    ['disk free', r.filesystem && pressureFlag(r.filesystem) + pressureText(r.filesystem)],
  ];
  const width = Math.max(...lines.map(([k]) => k.length)) + 2;
  const out = lines
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${`${k}:`.padEnd(width)}${v}\n`)
    .join('');
  const spec = r.spec ? `spec:\n${indent(stringify(r.spec))}` : 'spec: (no agentctl.spec label)\n';
  return out + spec;
}

function healthText(h: NonNullable<AgentRecord['health']>): string {
  const streak = h.failingStreak > 0 ? `, ${h.failingStreak} failure(s) in a row` : '';
  const p = h.lastProbe;
  const last = p
    ? `; last probe exit ${p.exitCode}${p.end ? ` at ${p.end}` : ''}${p.output ? `: ${JSON.stringify(p.output.split('\n')[0])}` : ''}`
    : '';
  return `${h.status}${streak}${last}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
}
