/**
 * The shell side of a persistent session: three small POSIX sh programs (they run under bash or
 * busybox sh alike) that one long-lived exec starts inside the agent's container.
 *
 * Process layout (all as the agent's user):
 *
 *   exec ── supervisor (sh)        reads the protocol on the exec's stdin, writes results on its stdout
 *             └─ wrapper (subshell) waits for the worker and reports its death
 *                  └─ worker (bash or sh, the user's shell: cwd, variables, functions live here)
 *                       └─ the command's processes
 *   background jobs: double-forked from the worker, so they are not its descendants
 *
 * The supervisor and the worker talk through two FIFOs in a private directory (mode 700) on a tmpfs
 * the agent can write ($TMPDIR, /tmp/agent, /tmp or $HOME): `go` (supervisor -> worker: run call N)
 * and `done` (worker and wrapper -> supervisor: call N started / finished with status S in cwd C /
 * the worker died with status S). A command runs with `. file` in the worker, stdin /dev/null (or a
 * file holding the caller's `stdin`), stdout and stderr into two files of its own call. When it
 * finishes, the supervisor sends the host a result frame: a header carrying the call's nonce, then
 * the cwd and the two outputs (whole, or head and tail when over the cap), with exact byte lengths.
 *
 * Threat model. The command is untrusted text (a model wrote it; a prompt injection may have).
 * - Nothing a command prints can end a call or fake a result: its output goes to files, never to the
 *   control stream (the exec's stdout), which only the supervisor writes. Result frames are found by
 *   a fresh 128-bit nonce per call that exists only in the host and in the supervisor's memory: it is
 *   never in any process's environment, arguments or files, and the worker (a fresh `sh -c`, not a
 *   fork of the supervisor) never has it. Junk that reaches the control stream is skipped.
 * - A command that reads stdin reads /dev/null (or its own `stdin`), never the protocol.
 * - Background processes a command leaves behind keep writing to that call's files (deleted after
 *   the call), never into a later call's output, and hold no call open.
 * - A timeout or a cancel kills the worker and every process below it, found by a marker in their
 *   environment plus the parent-pid tree (src/ops/exec-kill.ts); the supervisor starts a new worker.
 * Out of scope, stated honestly: the command runs as the same user as the supervisor, in the same
 * container. A process that deliberately attacks the session (writes to the FIFOs, opens
 * /proc/<pid>/fd of the supervisor, ptraces it where the kernel allows same-user ptrace) can garble
 * or misreport its own call, or kill the session (it then restarts), just as it could lie with
 * `exit 0`. It cannot reach the host, other agents, or anything the agent's user could not already.
 *
 * Protocol, host -> supervisor, one line each; payloads are encoded with encodeForShell() (no spaces,
 * no newlines; the supervisor decodes them with printf %b, a builtin):
 *   W <gen> <marker> <restore 0|1> <cwd>   start worker generation <gen> (restore: cwd and exports)
 *   I <data>                               the next command's stdin
 *   C <nonce> <seq> <cap> <stdin 0|1> <command>    run in the foreground
 *   J <nonce> <seq> <jobId> <marker> <command>     start a background job
 * end of input: kill everything of the session, delete its directory, exit.
 * Supervisor -> host:
 *   \n<key> H <bash|sh> <dir>\n            ready
 *   \n<key> F <message>\n                  cannot start (then it exits)
 *   \n<nonce> R <seq> <ok|dead> <started 0|1> <status> <outBytes> <errBytes> <cwd>\n
 *       then each output: all of it when <= cap, else its first cap/2 and last cap - cap/2 bytes.
 */

/** The worker: the user's persistent shell. $1 dir, $2 generation, $3 restore, $4 cwd, $5 job script. */
export const WORKER_SCRIPT = `
__agentctl_d=$1 __agentctl_g=$2 __agentctl_job=$5 __agentctl_m=$AGENTCTL_EXEC_ID __agentctl_sh=$0
if [ "$3" = 1 ]; then
  command . "$__agentctl_d/env" >/dev/null 2>&1
  export AGENTCTL_EXEC_ID="$__agentctl_m"
  [ -n "$4" ] && cd -- "$4" >/dev/null 2>&1
fi
set --
while IFS=' ' read -r __agentctl_k __agentctl_kg __agentctl_s __agentctl_t __agentctl_x __agentctl_y; do
  [ "$__agentctl_k" = G ] && [ "$__agentctl_kg" = "$__agentctl_g" ] || continue
  command printf 'S %s %s\\n' "$__agentctl_g" "$__agentctl_s" >&9
  if [ "$__agentctl_t" = C ]; then
    __agentctl_i=/dev/null
    [ "$__agentctl_x" = 1 ] && __agentctl_i=$__agentctl_d/stdin
    command . "$__agentctl_d/cmd" <"$__agentctl_i" >"$__agentctl_d/o$__agentctl_s" 2>"$__agentctl_d/e$__agentctl_s" 9>&-
    __agentctl_st=$?
  else
    ( AGENTCTL_EXEC_ID=$__agentctl_y "$__agentctl_sh" -c "$__agentctl_job" "$__agentctl_sh" "$__agentctl_d/jobs/$__agentctl_x" </dev/null >/dev/null 2>&1 9>&- & )
    __agentctl_st=$?
  fi
  command export -p >"$__agentctl_d/env" 2>/dev/null
  command printf 'D %s %s %s %s\\n' "$__agentctl_g" "$__agentctl_s" "$__agentctl_st" "$PWD" >&9
done
`;

/** A background job, in a shell of its own: $1 its files' path prefix. Its exit code goes to a file. */
export const JOB_SCRIPT = `
"$0" -c '. "$1"' "$0" "$1.cmd" </dev/null >"$1.out" 2>"$1.err"
echo $? >"$1.exit"
`;

/**
 * The supervisor (always POSIX sh): $1 session key, $2 worker script, $3 job script, $4 kill script
 * (src/ops/exec-kill.ts), $5 the marker prefix every process of the session carries. The worker
 * runs under bash where the image has it, sh otherwise.
 */
export const SUPERVISOR_SCRIPT = `
K=$1 WORKER=$2 JOB=$3 KILL=$4 PREFIX=$5
SH=sh
command -v bash >/dev/null 2>&1 && SH=bash
b=
for c in "\${TMPDIR:-}" /tmp/agent /tmp "\${HOME:-}"; do
  if [ -n "$c" ] && [ -d "$c" ] && [ -w "$c" ] && [ -x "$c" ]; then b=$c; break; fi
done
if [ -z "$b" ]; then
  printf '\\n%s F no writable directory for the session files (tried $TMPDIR, /tmp/agent, /tmp, $HOME)\\n' "$K"
  exit 97
fi
D=\${b%/}/.agentctl-session-$K
if ! mkdir -m 700 "$D" "$D/jobs" || ! mkfifo -m 600 "$D/go" "$D/done"; then
  printf '\\n%s F cannot create the session directory %s\\n' "$K" "$D"
  exit 98
fi
exec 8<>"$D/go" 9<>"$D/done"
spawn() {
  { AGENTCTL_EXEC_ID=$2 "$SH" -c "$WORKER" "$SH" "$D" "$1" "$3" "$4" "$JOB" <&8 >/dev/null 2>&1 8>&-
    printf 'X %s %s\\n' "$1" "$?" >&9; } &
}
send() {
  [ "$2" -gt 0 ] || return 0
  if [ "$2" -le "$cap" ]; then head -c "$2" "$1"; return; fi
  h=$((cap / 2)); head -c "$h" "$1"; tail -c "$((cap - h))" "$1"
}
g=0 kept=
printf '\\n%s H %s %s\\n' "$K" "$SH" "$D"
while IFS=' ' read -r k a b c d e; do
  case $k in
  W) g=$a; spawn "$a" "$b" "$c" "$(printf '%b' "$d")" ;;
  I) printf '%b' "$a" >"$D/stdin" ;;
  C|J)
    s=$b cap=0
    if [ "$k" = C ]; then
      cap=$c; printf '%b' "$e" >"$D/cmd"; printf 'G %s %s C %s\\n' "$g" "$s" "$d" >&8
    else
      printf '%b' "$e" >"$D/jobs/$c.cmd"; printf 'G %s %s J %s %s\\n' "$g" "$s" "$c" "$d" >&8
    fi
    r=dead st=255 started=0 cwd=
    while IFS=' ' read -r t tg ts tx ty <&9; do
      [ "$tg" = "$g" ] || continue
      case $t in
      S) [ "$ts" = "$s" ] && started=1 ;;
      D) if [ "$ts" = "$s" ]; then r=ok st=$tx cwd=$ty; break; fi ;;
      X) st=$ts; break ;;
      esac
    done
    on=0 en=0
    [ -s "$D/o$s" ] && on=$(( $(wc -c <"$D/o$s") ))
    [ -s "$D/e$s" ] && en=$(( $(wc -c <"$D/e$s") ))
    printf '\\n%s R %s %s %s %s %s %s %s\\n' "$a" "$s" "$r" "$started" "$st" "$on" "$en" "$cwd"
    send "$D/o$s" "$on"
    send "$D/e$s" "$en"
    a=
    if [ "$on" -gt "$cap" ] || [ "$en" -gt "$cap" ]; then
      [ -n "$kept" ] && rm -f "$D/o$kept" "$D/e$kept"
      kept=$s
    elif [ "$k" = C ]; then
      rm -f "$D/o$s" "$D/e$s"
    fi
    ;;
  esac
done
AGENTCTL_EXEC_ID= exec sh -c 'sh -c "$1" agentctl-kill "$2" prefix; rm -rf -- "$3"' agentctl-close "$KILL" "$PREFIX" "$D"
`;

/**
 * Reads a background job's state and output: $1 its files' prefix, $2 its marker, $3 and $4 the
 * stdout and stderr offsets to read from, $5 the most bytes of each to send. Stdout: a line
 * `<exited|running|gone> <exit code or -> <stdout bytes> <stderr bytes>`, then stdout from the offset;
 * stderr: stderr from its offset.
 */
export const JOB_READ_SCRIPT = `
f=$1 m="AGENTCTL_EXEC_ID=$2"
if [ -s "$f.exit" ]; then read -r e <"$f.exit"; s=exited
else
  e=- s=gone
  if printf 'x\\0y\\n' | grep -qzF y 2>/dev/null; then
    grep -qszF -- "$m" /proc/[0-9]*/environ && s=running
  else
    for p in /proc/[0-9]*/environ; do tr '\\0' '\\n' 2>/dev/null <"$p" | grep -qxF -- "$m" && { s=running; break; }; done
  fi
  [ -s "$f.exit" ] && { read -r e <"$f.exit"; s=exited; }
fi
on=0 en=0
[ -f "$f.out" ] && on=$(( $(wc -c <"$f.out") ))
[ -f "$f.err" ] && en=$(( $(wc -c <"$f.err") ))
printf '%s %s %s %s\\n' "$s" "$e" "$on" "$en"
[ "$on" -gt "$3" ] && tail -c +"$(($3 + 1))" "$f.out" | head -c "$5"
[ "$en" -gt "$4" ] && tail -c +"$(($4 + 1))" "$f.err" | head -c "$5" >&2
exit 0
`;
