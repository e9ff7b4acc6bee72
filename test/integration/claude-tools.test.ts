/**
 * claudeTools (bash_20250124 and text_editor_20250728) against a real agent on the busybox image. File
 * effects are checked on the host side of the agent's working directory and with docker exec.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentManager } from '../../src/ops/agent-manager.js';
import { claudeTools } from '../../src/tools/claude.js';
import { docker, removeProjectContainers, TEST_IMAGE } from '../helpers/docker.js';

describe('claudeTools (real engine)', () => {
  const project = `i10t-${randomBytes(3).toString('hex')}`;
  const prefix = `${project}-`;
  const container = `${prefix}w`;
  const runtimeDir = mkdtempSync(path.join(os.tmpdir(), `agentctl-${project}-`));
  const hostFile = path.join(runtimeDir, 'agent-working-directory', 'w');
  const mgr = new AgentManager({ project, runtimeDir, namePrefix: prefix });
  const tools = claudeTools(mgr, 'w', { maxCharacters: 2000 });
  let n = 0;
  const call = (name: string, input: unknown) =>
    tools.handle({ type: 'tool_use', id: `t${++n}`, name, input });
  const edit = (input: Record<string, unknown>) => call('str_replace_based_edit_tool', input);

  beforeAll(async () => {
    await mgr.createAgent({ id: 'w', image: TEST_IMAGE, memory: '64m', cpus: 0.5, network: 'none' });
  });
  afterAll(async () => {
    await tools.close();
    await mgr.close();
    removeProjectContainers(project);
    rmSync(runtimeDir, { recursive: true, force: true });
  });

  it('defines the tools as the Messages API takes them', () => {
    expect(tools.tools).toEqual([
      { type: 'bash_20250124', name: 'bash' },
      { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool', max_characters: 2000 },
    ]);
  });

  it('bash runs in a persistent session; exit codes are results, not errors; restart gives a fresh shell', async () => {
    expect(await call('bash', { command: 'cd /tmp/agent && export A=1' })).toMatchObject({
      type: 'tool_result',
      tool_use_id: `t${n}`,
    });
    const r = await call('bash', { command: 'echo $A; pwd; echo bad >&2; exit 3' });
    expect(r.is_error).toBeUndefined();
    expect(r.content).toBe('1\n/tmp/agent\n[stderr]\nbad\n[exit code 3; cwd /tmp/agent]');
    expect((await call('bash', { restart: true })).content).toBe('tool has been restarted.');
    expect((await call('bash', { command: 'echo "[$A]"; pwd' })).content).toBe(
      '[]\n/mnt\n[exit code 0; cwd /mnt]',
    );
    expect(await call('bash', {})).toMatchObject({
      is_error: true,
      content: expect.stringMatching(/command/),
    });
    expect(await call('nope', {})).toMatchObject({
      is_error: true,
      content: expect.stringMatching(/Unknown tool/),
    });
  });

  it('create writes the file inside the agent, as its user', async () => {
    const r = await edit({ command: 'create', path: '/mnt/src/a.txt', file_text: 'one\ntwo\nthree\ntwo\n' });
    expect(r).toMatchObject({ content: 'File created successfully at: /mnt/src/a.txt' });
    expect(readFileSync(path.join(hostFile, 'src', 'a.txt'), 'utf8')).toBe('one\ntwo\nthree\ntwo\n');
    expect(docker('exec', container, 'stat', '-c', '%u', '/mnt/src/a.txt')).toBe('1000');
    expect(
      (await edit({ command: 'create', path: '/mnt/src/a.txt', file_text: 'one\ntwo\nthree\ntwo\n' }))
        .content,
    ).toBe('File overwritten: /mnt/src/a.txt');
  });

  it('view shows line numbers, view_range, directories without hidden entries, and max_characters', async () => {
    expect((await edit({ command: 'view', path: '/mnt/src/a.txt' })).content).toBe(
      "Here's the result of running `cat -n` on /mnt/src/a.txt:\n     1\tone\n     2\ttwo\n     3\tthree\n     4\ttwo\n",
    );
    expect((await edit({ command: 'view', path: '/mnt/src/a.txt', view_range: [2, 3] })).content).toMatch(
      /:\n {5}2\ttwo\n {5}3\tthree\n$/,
    );
    expect((await edit({ command: 'view', path: '/mnt/src/a.txt', view_range: [3, -1] })).content).toMatch(
      /:\n {5}3\tthree\n {5}4\ttwo\n$/,
    );
    expect(await edit({ command: 'view', path: '/mnt/src/a.txt', view_range: [9, 10] })).toMatchObject({
      is_error: true,
      content: expect.stringMatching(/start must be between 1 and 4/),
    });
    docker(
      'exec',
      container,
      'sh',
      '-c',
      'mkdir -p /mnt/src/.git /mnt/src/sub/deep && touch /mnt/src/.hidden /mnt/src/sub/b /mnt/src/sub/deep/c',
    );
    const dir = (await edit({ command: 'view', path: '/mnt/src' })).content;
    expect(dir).toBe(
      'Here are the files and directories up to 2 levels deep in /mnt/src, excluding hidden items:\n' +
        '/mnt/src\n/mnt/src/a.txt\n/mnt/src/sub\n/mnt/src/sub/b\n/mnt/src/sub/deep\n',
    );
    const big = Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n');
    await edit({ command: 'create', path: '/mnt/big.txt', file_text: big });
    const clipped = (await edit({ command: 'view', path: '/mnt/big.txt' })).content;
    expect(clipped).toContain('<response clipped');
    expect(clipped.length).toBeLessThan(2300);
    expect(await edit({ command: 'view', path: '/mnt/nope' })).toMatchObject({
      is_error: true,
      content: expect.stringMatching(/does not exist/),
    });
    expect(await edit({ command: 'view', path: 'src/a.txt' })).toMatchObject({
      is_error: true,
      content: expect.stringMatching(/not an absolute path/),
    });
  });

  it('str_replace needs exactly one match and says where the matches are', async () => {
    const none = await edit({
      command: 'str_replace',
      path: '/mnt/src/a.txt',
      old_str: 'four',
      new_str: 'x',
    });
    expect(none).toMatchObject({ is_error: true, content: expect.stringMatching(/did not appear verbatim/) });
    const several = await edit({
      command: 'str_replace',
      path: '/mnt/src/a.txt',
      old_str: 'two',
      new_str: 'x',
    });
    expect(several).toMatchObject({
      is_error: true,
      content: expect.stringMatching(/occurs 2 times .* at lines 2, 4/),
    });
    const ok = await edit({
      command: 'str_replace',
      path: '/mnt/src/a.txt',
      old_str: 'two\nthree',
      new_str: 'TWO\nTHREE',
    });
    expect(ok.is_error).toBeUndefined();
    expect(ok.content).toContain('has been edited');
    expect(ok.content).toContain('     2\tTWO\n     3\tTHREE\n');
    expect(readFileSync(path.join(hostFile, 'src', 'a.txt'), 'utf8')).toBe('one\nTWO\nTHREE\ntwo\n');
    // The file's inode and mode are kept (written in place).
    expect(docker('exec', container, 'stat', '-c', '%a', '/mnt/src/a.txt')).toMatch(/^6[46][04]$/);
  });

  it('insert takes insert_text (what models send) or new_str, after insert_line', async () => {
    await edit({ command: 'insert', path: '/mnt/src/a.txt', insert_line: 0, insert_text: 'zero' });
    await edit({ command: 'insert', path: '/mnt/src/a.txt', insert_line: 5, new_str: 'five\n' });
    expect(readFileSync(path.join(hostFile, 'src', 'a.txt'), 'utf8')).toBe(
      'zero\none\nTWO\nTHREE\ntwo\nfive\n',
    );
    expect(
      await edit({ command: 'insert', path: '/mnt/src/a.txt', insert_line: 99, insert_text: 'x' }),
    ).toMatchObject({
      is_error: true,
      content: expect.stringMatching(/between 0 and 6/),
    });
  });

  it('edits fail as they would for the agent: read-only paths, permissions', async () => {
    const ro = await edit({ command: 'create', path: '/etc/agentctl-test', file_text: 'x' });
    expect(ro).toMatchObject({
      is_error: true,
      content: expect.stringMatching(
        /Cannot write \/etc\/agentctl-test as the agent's user: .*(Read-only|Permission denied)/,
      ),
    });
    expect(
      await edit({ command: 'str_replace', path: '/etc/passwd', old_str: 'agent', new_str: 'x' }),
    ).toMatchObject({
      is_error: true,
      content: expect.stringMatching(/occurs|Cannot write/),
    });
  });

  it('a symlink never reaches a host file: it resolves inside the container', async () => {
    const secret = path.join(os.tmpdir(), `agentctl-i10-secret-${randomBytes(4).toString('hex')}`);
    writeFileSync(secret, 'host secret\n');
    try {
      docker('exec', container, 'ln', '-s', secret, '/mnt/to-host');
      docker('exec', container, 'ln', '-s', '/etc/passwd', '/mnt/to-passwd');
      expect(await edit({ command: 'view', path: '/mnt/to-host' })).toMatchObject({
        is_error: true,
        content: expect.stringMatching(/symbolic link to a path that does not exist/),
      });
      const w = await edit({ command: 'create', path: '/mnt/to-host', file_text: 'overwritten\n' });
      expect(w.is_error).toBe(true);
      expect(readFileSync(secret, 'utf8')).toBe('host secret\n');
      // /etc/passwd through the link is the container's (the test image's two users), not the host's.
      const passwd = (await edit({ command: 'view', path: '/mnt/to-passwd' })).content;
      expect(passwd).toContain('agent:x:1000:1000');
      expect(passwd).not.toContain(
        readFileSync('/etc/passwd', 'utf8')
          .split('\n')
          .find((l) => l.startsWith('daemon:'))!,
      );
    } finally {
      rmSync(secret, { force: true });
    }
  });
});
