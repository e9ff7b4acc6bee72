/**
 * The agent image, end to end: builds claude-agent:latest from agent-image/ (and its base with
 * agent-image/bootstrap-base.sh when missing), runs one agent with `agentctl apply` (so with every
 * hardening default: read-only root, tmpfs, dropped capabilities, ...), and checks inside it that each
 * tool works and that only /mnt, /tmp/agent and /home/agent/.cache are writable.
 *
 * Run with `npm run test:image` (not part of `npm test`): it needs a Docker engine, a built CLI (dist/),
 * network access to a Debian mirror for a first build, and root to bootstrap the base image.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const IMAGE_DIR = path.join(REPO, 'agent-image');
const BASE_IMAGE = process.env.AGENT_BASE_IMAGE ?? 'debian:trixie-slim';
const IMAGE = 'claude-agent:latest';
const AGENT = 'tools';
// Unique per run, as the project is: the default prefix (claude-agent-) would make two runs at once (two
// checkouts, CI beside a developer) fight over one container name.
const project = `imgtest-${randomBytes(4).toString('hex')}`;
const CONTAINER = `${project}-${AGENT}`;

interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop (builds take minutes). Never throws. */
function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ status: -1, stdout, stderr: `${stderr}${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}

/** The last lines of a long output, for failure messages. */
function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function describeResult(r: RunResult): string {
  return `exit ${r.status}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

/** Runs a bash script in the agent's container, as the image's user, in /mnt. */
function agentSh(script: string, timeoutMs = 120_000): Promise<RunResult> {
  return run('docker', ['exec', CONTAINER, 'bash', '-c', script], { timeoutMs });
}

/** Like agentSh, but fails the test unless the script exits 0; returns stdout + stderr. */
async function agentOk(script: string, timeoutMs?: number): Promise<string> {
  const r = await agentSh(script, timeoutMs);
  expect(r.status, `${script}\n${describeResult(r)}`).toBe(0);
  return r.stdout + r.stderr;
}

/** The CLI as installed: package.json's bin entry. */
function cliPath(): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    bin?: Record<string, string>;
  };
  return path.join(REPO, pkg.bin?.agentctl ?? 'dist/cli/main.js');
}

let tmp = '';
let agentsFile = '';
let hostWorkDir = '';

function agentctl(...args: string[]): Promise<RunResult> {
  return run(process.execPath, [cliPath(), ...args], { cwd: tmp, timeoutMs: 300_000 });
}

async function removeProjectContainers(): Promise<void> {
  const ids = await run('docker', ['ps', '-aq', '--filter', `label=agentctl.project=${project}`]);
  const list = ids.stdout.split('\n').filter(Boolean);
  if (list.length > 0) await run('docker', ['rm', '-f', ...list]);
}

beforeAll(async () => {
  const info = await run('docker', ['info', '--format', '{{.ServerVersion}}']);
  if (info.status !== 0) throw new Error(`the image tests need a running Docker engine\n${info.stderr}`);
  if (!existsSync(cliPath())) throw new Error(`${cliPath()} is missing: run \`npm run build\` first`);

  // 1. The base image: made with debootstrap when it is not there (no registry needed).
  if ((await run('docker', ['image', 'inspect', BASE_IMAGE])).status !== 0) {
    if (process.getuid?.() !== 0)
      throw new Error(`${BASE_IMAGE} is missing; create it as root: sudo agent-image/bootstrap-base.sh`);
    const boot = await run(path.join(IMAGE_DIR, 'bootstrap-base.sh'), [BASE_IMAGE], {
      timeoutMs: 20 * 60_000,
    });
    if (boot.status !== 0) throw new Error(`bootstrap-base.sh failed\n${describeResult(boot)}`);
  }

  // 2. The image itself (fast when Docker's layer cache is warm).
  const build = await run(
    'docker',
    ['build', '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`, '-t', IMAGE, IMAGE_DIR],
    { timeoutMs: 30 * 60_000 },
  );
  if (build.status !== 0) throw new Error(`docker build failed\n${describeResult(build)}`);

  // 3. One agent with every default, through the CLI.
  tmp = mkdtempSync(path.join(tmpdir(), 'agentctl-imgtest-'));
  agentsFile = path.join(tmp, 'agents.yaml');
  hostWorkDir = path.join(tmp, 'rt', 'agent-working-directory', AGENT);
  writeFileSync(
    agentsFile,
    `version: 1\nproject: ${project}\nnamePrefix: ${project}-\nruntimeDir: ./rt\nagents:\n  ${AGENT}: {}\n`,
    'utf8',
  );
  const apply = await agentctl('apply', '-f', agentsFile);
  if (apply.status !== 0) throw new Error(`agentctl apply failed\n${describeResult(apply)}`);
}, 30 * 60_000);

afterAll(async () => {
  if (agentsFile) await agentctl('down', '-f', agentsFile);
  await removeProjectContainers();
  // Files written by the agent belong to uid 1000: fine for root, and otherwise rm copes with 0777 dirs.
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('the agent container, as agentctl runs it', () => {
  it('is the image, hardened, running as agent (1000:1000) in /mnt', async () => {
    const r = await run('docker', ['inspect', '--type', 'container', CONTAINER]);
    expect(r.status, describeResult(r)).toBe(0);
    const [c] = JSON.parse(r.stdout) as Array<{
      Config: { Image: string; Labels: Record<string, string> };
      State: { Running: boolean };
      HostConfig: { ReadonlyRootfs: boolean; Tmpfs: Record<string, string>; CapDrop: string[] };
    }>;
    expect(c?.Config.Image).toBe(IMAGE);
    expect(c?.Config.Labels['agentctl.project']).toBe(project);
    expect(c?.State.Running).toBe(true);
    expect(c?.HostConfig.ReadonlyRootfs).toBe(true);
    expect(Object.keys(c?.HostConfig.Tmpfs ?? {}).sort()).toEqual(['/home/agent/.cache', '/tmp/agent']);
    expect(c?.HostConfig.CapDrop).toEqual(['ALL']);

    const out = await agentOk('echo "$(id -u):$(id -g) $(id -un) $PWD $HOME $AGENT_WORK_DIR $TMPDIR"');
    expect(out.trim()).toBe('1000:1000 agent /mnt /home/agent /mnt /tmp/agent');
  });

  const versions: Array<[string, RegExp]> = [
    ['python3 --version', /Python 3\.(1[2-9]|[2-9]\d)\./],
    ['node --version', /^v(1[89]|[2-9]\d)\./],
    ['npm --version', /^\d+\.\d+\.\d+/],
    ['java -version', /openjdk version "21/],
    ['javac -version', /javac 21/],
    ['git --version', /git version 2\./],
    ['vim --version', /VIM - Vi IMproved/],
    ['nano --version', /GNU nano/],
    ['pandoc --version', /pandoc \d/],
    ['convert -version', /ImageMagick \d/],
    ['magick -version', /ImageMagick 7/],
    ['ffmpeg -version', /ffmpeg version/],
    ['tesseract --version', /tesseract 5/],
    ['sqlite3 --version', /^3\.\d+/],
    ['psql --version', /psql \(PostgreSQL\) \d+/],
    ['mysql --version', /(MariaDB|mysql)/i],
  ];
  it.each(versions)('%s reports its version', async (cmd, expected) => {
    const out = await agentOk(cmd);
    expect(out).toMatch(expected);
  });

  it('python imports every library and writes a matplotlib PNG and a pandas CSV to /mnt', async () => {
    const out = await agentOk(`python3 - <<'EOF'
import numpy, pandas, scipy, matplotlib, PIL, requests, bs4, pypdf, docx
import matplotlib.pyplot as plt
from scipy import stats
plt.plot([1, 2, 3], [1, 4, 9])
plt.title('agent')
plt.savefig('/mnt/plot.png')
pandas.DataFrame({'a': [1, 2], 'b': [3, 4]}).to_csv('/mnt/data.csv', index=False)
print('median', numpy.median([1, 2, 3]), 'p', round(stats.norm.cdf(0), 2))
EOF`);
    expect(out).toContain('median 2.0 p 0.5');
    // Nothing about an unwritable cache (matplotlib falls back to a temp dir with a warning).
    expect(out).not.toMatch(/not writable|Permission denied|temporary cache directory/);
    const png = readFileSync(path.join(hostWorkDir, 'plot.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(readFileSync(path.join(hostWorkDir, 'data.csv'), 'utf8')).toBe('a,b\n1,3\n2,4\n');
  });

  it('node runs a script, and npm runs a package script', async () => {
    const out = await agentOk(`set -e
echo 'console.log("node", [1, 2, 3].map((x) => x * 2).join(","))' > /mnt/hello.js
node /mnt/hello.js
mkdir -p /mnt/npmtest && cd /mnt/npmtest
npm init -y >/dev/null
npm pkg set scripts.hi='node -e "console.log(42 + 1)"'
npm run --silent hi`);
    expect(out).toContain('node 2,4,6');
    expect(out).toContain('43');
    expect(out).not.toMatch(/npm (ERR|error)/);
  });

  it('javac and java compile and run a program that uses a temp file; java runs a source file', async () => {
    const out = await agentOk(`set -e
mkdir -p /mnt/java && cd /mnt/java
cat > Hello.java <<'EOF'
public class Hello {
  public static void main(String[] args) throws Exception {
    java.io.File f = java.io.File.createTempFile("hello", ".txt");
    f.deleteOnExit();
    System.out.println("hello from java in " + f.getParent());
  }
}
EOF
javac Hello.java
java -cp . Hello
java Hello.java`);
    expect(out.match(/hello from java in \/tmp\/agent/g)).toHaveLength(2);
    expect(existsSync(path.join(hostWorkDir, 'java', 'Hello.class'))).toBe(true);
  });

  it('pandoc converts markdown to HTML', async () => {
    const out = await agentOk(
      `printf '# Title\\n\\nSome *text*.\\n' > /mnt/doc.md && pandoc /mnt/doc.md -o /mnt/doc.html && cat /mnt/doc.html`,
    );
    expect(out).toContain('<h1 id="title">Title</h1>');
    expect(out).toContain('<em>text</em>');
  });

  it('ImageMagick renders text and converts an image', async () => {
    const out = await agentOk(`set -e
convert -size 600x120 xc:white -font DejaVu-Sans -pointsize 48 -fill black -annotate +20+80 'HELLO AGENT' /mnt/magick.png
magick /mnt/magick.png -resize 50% /mnt/magick.jpg
identify /mnt/magick.jpg`);
    expect(out).toMatch(/magick\.jpg JPEG 300x60/);
    expect(statSync(path.join(hostWorkDir, 'magick.jpg')).size).toBeGreaterThan(0);
  });

  it('tesseract reads the text ImageMagick rendered', async () => {
    const out = await agentOk(`set -e
convert -size 600x120 xc:white -font DejaVu-Sans -pointsize 48 -fill black -annotate +20+80 'HELLO AGENT' /mnt/ocr.png
tesseract /mnt/ocr.png stdout`);
    expect(out).toContain('HELLO AGENT');
  });

  it('ImageMagick draws text in a readable default font (no -font), and tesseract reads it back', async () => {
    // Without the image's font policy this rendered TeX symbols and tesseract read "yen".
    const out = await agentOk(`set -e
cd /tmp/agent
convert -size 300x100 xc:white -annotate +10+50 "HELLO 42" out.png
tesseract out.png stdout 2>/dev/null`);
    expect(out.trim()).toBe('HELLO 42');
  });

  it('ffmpeg makes a 1 s video from a test source', async () => {
    const out = await agentOk(`set -e
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=duration=1:size=320x240:rate=10 /mnt/test.mp4
ffprobe -v error -show_entries format=duration:stream=width,height -of default=nw=1 /mnt/test.mp4`);
    expect(out).toMatch(/width=320/);
    expect(out).toMatch(/height=240/);
    expect(out).toMatch(/duration=1\.0/);
    expect(statSync(path.join(hostWorkDir, 'test.mp4')).size).toBeGreaterThan(0);
  });

  it('sqlite3 creates a database in /mnt', async () => {
    const out = await agentOk(
      `sqlite3 /mnt/test.db 'create table t(x); insert into t values (42); select x * 2 from t;'`,
    );
    expect(out.trim()).toBe('84');
    expect(readFileSync(path.join(hostWorkDir, 'test.db')).subarray(0, 15).toString()).toBe(
      'SQLite format 3',
    );
  });

  it('git commits in /mnt with the image identity, and reads a repository owned by another uid', async () => {
    const out = await agentOk(`set -e
git init -q /mnt/repo && cd /mnt/repo
echo hello > README
git add README
git commit -qm 'first commit'
git log --format='%an <%ae> %s'
git rev-parse --abbrev-ref HEAD`);
    expect(out).toContain('Claude Agent <agent@localhost> first commit');
    expect(out).toContain('main');
    expect(existsSync(path.join(hostWorkDir, 'repo', '.git', 'HEAD'))).toBe(true);

    // safe.directory=*: a bind-mounted repository often belongs to the host user, not to uid 1000.
    const chown = await run('chown', ['-R', '0:0', path.join(hostWorkDir, 'repo')]);
    if (chown.status === 0) {
      const log = await agentOk('git -C /mnt/repo log --oneline');
      expect(log).toContain('first commit');
    }
  });

  it('vim edits a file non-interactively', async () => {
    await agentOk(`vim -es -c "put ='written by vim'" -c wq /mnt/vim.txt`);
    expect(readFileSync(path.join(hostWorkDir, 'vim.txt'), 'utf8')).toContain('written by vim');
  });

  it('can write only to /mnt, /tmp/agent and /home/agent/.cache', async () => {
    for (const p of ['/etc/x', '/home/agent/x', '/x', '/usr/local/x', '/tmp/x', '/var/tmp/x']) {
      const r = await agentSh(`touch ${p}`);
      expect(r.status, `touch ${p} should fail`).not.toBe(0);
      expect(r.stderr).toMatch(/Read-only file system|Permission denied/);
    }
    await agentOk('touch /mnt/ok /tmp/agent/ok /home/agent/.cache/ok');
    expect(existsSync(path.join(hostWorkDir, 'ok'))).toBe(true);
  });

  it('cannot execute programs from the noexec tmpfs mounts', async () => {
    for (const dir of ['/tmp/agent', '/home/agent/.cache']) {
      const r = await agentSh(`cp /bin/true ${dir}/t && ${dir}/t`);
      expect(r.status, `${dir}: ${describeResult(r)}`).not.toBe(0);
      expect(r.stderr).toMatch(/Permission denied/);
    }
  });
});
