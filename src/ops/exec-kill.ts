/**
 * Killing a command's whole process tree inside its container. Ending our connection (or a `docker
 * exec` client) leaves the process running, so a timed-out command would live on: instead every exec
 * we start carries a random marker in its environment, which all its descendants inherit, and a second
 * exec kills every process that has the marker, plus their descendants that cleared their environment.
 *
 * Why a marker rather than a process group: the exec's main process is a session leader, but nothing
 * stops a command from starting another session (`setsid`, daemons), and its pid is only known outside
 * the container. The marker survives both. The killer runs as the command's user: with capabilities
 * dropped, only the same user may read a process's environment and signal it.
 */
import { randomBytes } from 'node:crypto';
import type { DockerPort } from '../docker/port.js';

export const EXEC_MARKER_ENV = 'AGENTCTL_EXEC_ID';

/** A fresh marker for one exec. */
export function newExecMarker(): string {
  return randomBytes(8).toString('hex');
}

/**
 * POSIX sh, with only `grep` (and `tr` without `grep -z`) besides builtins: busybox, Debian and Alpine
 * have them. Each round: find
 * marked processes, stop them (a stopped process cannot fork), add their descendants by parent pid until
 * nothing new turns up, kill them all. Rounds repeat until no marked process is left, so a child forked
 * just before its parent was stopped is caught by the next one. Exit 0: none left; 1: some survived.
 */
export const KILL_SCRIPT = `
m="${EXEC_MARKER_ENV}=$1"
# With "prefix" as $2, every marker starting with $1 counts (all processes of a persistent session).
x=xF; [ "$2" = prefix ] && x=F
# grep -z reads NUL-separated records, as environ files are; without it, one file at a time.
z=; if printf 'x\\0y\\n' | grep -qzF y 2>/dev/null; then z=1; fi
marked() {
  if [ -n "$z" ]; then grep -lszF -- "$m" /proc/[0-9]*/environ; return; fi
  for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' 2>/dev/null < "$f" | grep -q$x -- "$m" && echo "$f"; done
}
round=0
while [ "$round" -lt 20 ]; do
  round=$((round + 1))
  pids=
  for f in $(marked); do
    p=\${f#/proc/}; pids="$pids \${p%/environ}"
  done
  [ -z "$pids" ] && exit 0
  kill -STOP $pids 2>/dev/null
  all=" $pids "
  grew=1
  while [ -n "$grew" ]; do
    grew=
    for s in /proc/[0-9]*/stat; do
      read -r line 2>/dev/null < "$s" || continue
      p=\${s#/proc/}; p=\${p%/stat}
      set -- \${line##*) }
      case "$all" in *" $2 "*) case "$all" in *" $p "*) ;; *) all="$all$p "; kill -STOP "$p" 2>/dev/null; grew=1 ;; esac ;; esac
    done
  done
  kill -KILL $all 2>/dev/null
done
exit 1
`;

/**
 * Runs the killer in the container; true when no marked process is left. With `prefix`, every
 * process whose marker starts with `marker` is killed (all of a persistent session's). Never throws: this runs on
 * error paths (timeout, interrupt), where the caller reports the original problem.
 */
export async function killMarked(
  port: DockerPort,
  containerId: string,
  marker: string,
  user: string | undefined,
  opts: { prefix?: boolean } = {},
): Promise<boolean> {
  try {
    const out = await port.exec(
      containerId,
      { cmd: ['sh', '-c', KILL_SCRIPT, 'agentctl-kill', marker, ...(opts.prefix ? ['prefix'] : [])], user },
      { onOutput: () => undefined },
    );
    return out.status === 'exited' && out.exitCode === 0;
  } catch {
    return false;
  }
}
