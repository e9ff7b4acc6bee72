/**
 * Shell completion scripts (bash, zsh, fish), generated from the command tree so they never fall behind
 * the program: a new command or flag is completed as soon as it exists. Agent ids are asked of agentctl
 * itself at completion time (`ps --format '{{.Agent}}'` of ./agents.yaml), so they are the live ones.
 */

export interface CompletionCommand {
  name: string;
  description: string;
  /** Long and short flags, sorted. */
  flags: string[];
  /** Its first argument is an agent id (exec, logs, stop...). */
  takesAgent: boolean;
  subcommands: CompletionCommand[];
}

export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

const AGENTS_CMD = `agentctl ps --format '{{.Agent}}' 2>/dev/null`;

export function completionScript(shell: CompletionShell, commands: readonly CompletionCommand[]): string {
  if (shell === 'bash') return bashScript(commands);
  if (shell === 'zsh') return zshScript(commands);
  return fishScript(commands);
}

/** A word list, safe inside single quotes (commands and flags never hold one). */
const words = (xs: readonly string[]) => xs.join(' ');

function bashScript(commands: readonly CompletionCommand[]): string {
  const cases = commands.map((c) => {
    const subs = c.subcommands.map((s) => s.name);
    const lines = [`    ${c.name})`];
    if (subs.length > 0)
      lines.push(
        `      if [ "$COMP_CWORD" -eq 2 ] && [[ "$cur" != -* ]]; then COMPREPLY=($(compgen -W '${words(subs)}' -- "$cur")); return; fi`,
      );
    lines.push(`      flags='${words(c.flags)}'`);
    if (c.takesAgent) lines.push('      agents=1');
    lines.push('      ;;');
    return lines.join('\n');
  });
  return [
    '# agentctl completion for bash: eval "$(agentctl completion bash)" (e.g. in ~/.bashrc)',
    '_agentctl() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" cmd="${COMP_WORDS[1]}" flags="" agents=0',
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W '${words(commands.map((c) => c.name))} --help --version' -- "$cur"))`,
    '    return',
    '  fi',
    '  case "$cmd" in',
    ...cases,
    '  esac',
    '  if [[ "$cur" == -* ]]; then',
    '    COMPREPLY=($(compgen -W "$flags" -- "$cur"))',
    '  elif [ "$agents" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W "$(${AGENTS_CMD})" -- "$cur"))`,
    '  else',
    '    COMPREPLY=($(compgen -f -- "$cur"))',
    '  fi',
    '}',
    'complete -o filenames -F _agentctl agentctl',
    '',
  ].join('\n');
}

/** zsh: a `_describe` of the commands, then the command's flags and (where one goes) agent ids. */
function zshScript(commands: readonly CompletionCommand[]): string {
  const described = commands.map(
    (c) => `    '${c.name}:${c.description.replace(/'/g, '').replace(/:/g, ' ')}'`,
  );
  const cases = commands.map((c) => {
    const subs = c.subcommands.map((s) => s.name);
    const body = [`      flags=(${words(c.flags)})`];
    if (subs.length > 0)
      body.push(`      (( CURRENT == 3 )) && [[ $PREFIX != -* ]] && { compadd -- ${words(subs)}; return }`);
    if (c.takesAgent) body.push('      agents=1');
    return [`    ${c.name})`, ...body, '      ;;'].join('\n');
  });
  return [
    '#compdef agentctl',
    '# agentctl completion for zsh: agentctl completion zsh > "${fpath[1]}/_agentctl" (then compinit),',
    '# or source <(agentctl completion zsh) after compinit',
    '_agentctl() {',
    '  local -a cmds flags',
    '  local agents=0',
    '  cmds=(',
    ...described,
    '  )',
    '  if (( CURRENT == 2 )); then _describe command cmds; return; fi',
    '  case ${words[2]} in',
    ...cases,
    '  esac',
    '  if [[ $PREFIX == -* ]]; then compadd -- $flags',
    `  elif (( agents )); then compadd -- \${(f)"$(${AGENTS_CMD})"}`,
    '  else _files; fi',
    '}',
    // Autoloaded by compinit from fpath, this file is the body of _agentctl: the first completion must
    // run the function just defined (else the first TAB offers nothing); sourced, it registers it.
    'if [[ ${funcstack[1]} == _agentctl ]]; then _agentctl "$@"; else compdef _agentctl agentctl; fi',
    '',
  ].join('\n');
}

function fishScript(commands: readonly CompletionCommand[]): string {
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = [
    '# agentctl completion for fish: agentctl completion fish > ~/.config/fish/completions/agentctl.fish',
    'complete -c agentctl -f',
  ];
  for (const c of commands) {
    lines.push(`complete -c agentctl -n __fish_use_subcommand -a ${c.name} -d ${q(c.description)}`);
    for (const s of c.subcommands)
      lines.push(
        `complete -c agentctl -n '__fish_seen_subcommand_from ${c.name}' -a ${s.name} -d ${q(s.description)}`,
      );
    for (const f of c.flags) {
      const flag = f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`;
      lines.push(`complete -c agentctl -n '__fish_seen_subcommand_from ${c.name}' ${flag}`);
    }
    if (c.takesAgent)
      lines.push(`complete -c agentctl -n '__fish_seen_subcommand_from ${c.name}' -a "(${AGENTS_CMD})"`);
  }
  return `${lines.join('\n')}\n`;
}
