/**
 * One example per command, shown at the end of its `--help`: the quickest way to see how a command is
 * meant to be called. Commands another engineer adds get theirs here too; a test checks that every
 * registered command has one.
 */
import type { Command } from 'commander';

export const EXAMPLES: Record<string, string[]> = {
  init: ['agentctl init && agentctl validate', 'agentctl init -f fleet/agents.yaml --force'],
  completion: [
    'agentctl completion bash > /etc/bash_completion.d/agentctl',
    'eval "$(agentctl completion bash)"   # or in ~/.bashrc',
    'agentctl completion fish > ~/.config/fish/completions/agentctl.fish',
  ],
  validate: ['agentctl validate -f agents.yaml', 'cat agents.yaml | agentctl validate -f - -o json'],
  diff: ['agentctl diff', 'agentctl diff -o json | jq .summary', 'agentctl diff --target worker'],
  apply: [
    'agentctl apply -f agents.yaml',
    'agentctl apply --watch   # keep converging until Ctrl-C',
    'agentctl apply --target coder --target worker-2   # only these agents',
  ],
  build: ['agentctl build --no-cache'],
  ps: ['agentctl ps', 'agentctl ps --all -o json', "agentctl ps --format 'table {{.ID}}\\t{{.State}}'"],
  down: ['agentctl down', 'agentctl down --data   # also delete the working directories'],
  exec: [
    'agentctl exec worker-1 -- ls -l /mnt',
    'agentctl exec --timeout 30 -e MODE=test worker-1 -- python3 job.py',
    'agentctl exec -e GITHUB_TOKEN worker-1 -- gh pr list   # passes our GITHUB_TOKEN through',
  ],
  shell: ['agentctl shell worker-1'],
  run: [
    'agentctl run --rm -- echo hello',
    'agentctl run scratch --memory 1g   # keeps running; agentctl rm scratch',
    'agentctl run --rm -e MODE=test -e ANTHROPIC_API_KEY -u 1000 --pids 256 -- python3 job.py',
  ],
  logs: [
    'agentctl logs worker-1 -n 50',
    'agentctl logs -f --since 10m worker-1',
    'agentctl logs -f   # every agent of ./agents.yaml, each line prefixed with its agent',
    'agentctl logs worker-1 worker-2 --since 1h --until 30m',
  ],
  start: ['agentctl start worker-1 worker-2'],
  stop: ['agentctl stop -t 30 worker-1'],
  restart: ['agentctl restart worker-1'],
  rm: ['agentctl rm worker-1', 'agentctl rm --data worker-1   # also delete its working directory'],
  inspect: ['agentctl inspect worker-1', 'agentctl inspect worker-1 -o json | jq .limits'],
  stats: ['agentctl stats', 'agentctl stats --no-stream -o json'],
  cp: [
    'agentctl cp ./data worker-1:/mnt/',
    'agentctl cp worker-1:/mnt/out.txt .',
    'agentctl cp worker-1:/mnt/out - | tar -t   # a tar stream on stdout',
    'tar -c -C src . | agentctl cp - worker-1:/mnt/in   # a tar stream from stdin',
  ],
  cleanup: ['agentctl cleanup --older-than 7d --dry-run'],
  mcp: ['agentctl mcp --agent worker-1   # stdio, for Claude Code: claude mcp add agents -- agentctl mcp'],
};

export function addExamples(program: Command): void {
  for (const cmd of program.commands) {
    const examples = EXAMPLES[cmd.name()];
    if (!examples) continue;
    cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
  }
}
