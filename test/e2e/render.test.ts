/** render --kubernetes through the built binary: no engine involved, stdout or files, warnings, JSON. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { agentctl } from '../helpers/cli.js';

const FIXTURE = path.resolve('test/fixtures/kubernetes/agents.yaml');
// No engine is needed: a DOCKER_HOST nothing listens on proves render never asks one.
const env = { DOCKER_HOST: 'garbage' };

describe('agentctl render --kubernetes (built binary)', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'agentctl-render-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('prints the manifests as YAML documents, the same as the golden file, and warnings with file:line:col', () => {
    const r = agentctl(['render', '--kubernetes', '-f', FIXTURE], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(path.resolve('test/fixtures/kubernetes/sandbox.golden.yaml'), 'utf8'));
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string });
    expect(docs.map((d) => d.kind)).toEqual([
      'Sandbox',
      'Sandbox',
      'NetworkPolicy',
      'Sandbox',
      'Sandbox',
      'Sandbox',
      'Sandbox',
      'Sandbox',
      'NetworkPolicy',
    ]);
    expect(r.stderr).toMatch(
      new RegExp(`^${FIXTURE}:\\d+:\\d+: warning: agent sealed: pids: 1024 cannot be expressed per pod`, 'm'),
    );
  });

  it('--out-dir writes one file per agent and a kustomization; --workload statefulset switches the kind', () => {
    const r = agentctl(
      ['render', '--kubernetes', '-f', FIXTURE, '--workload', 'statefulset', '--out-dir', out],
      {
        env,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'k8s-coder.yaml',
      'k8s-fenced.yaml',
      'k8s-host.yaml',
      'k8s-own-image.yaml',
      'k8s-paused.yaml',
      'k8s-remote.yaml',
      'k8s-sealed.yaml',
      'kustomization.yaml',
    ]);
    expect(r.stdout).toContain(`wrote ${path.join(out, 'k8s-coder.yaml')}\n`);
    const sealed = parseAllDocuments(readFileSync(path.join(out, 'k8s-sealed.yaml'), 'utf8')).map((d) =>
      d.toJS(),
    );
    expect(sealed.map((d: { kind: string }) => d.kind)).toEqual(['StatefulSet', 'NetworkPolicy']);
    expect(readFileSync(path.join(out, 'kustomization.yaml'), 'utf8')).toMatch(
      /resources:\n {2}- k8s-coder\.yaml\n/,
    );
  });

  it('-o json gives objects and warnings; without a target it is a usage error', () => {
    const r = agentctl(['render', '--kubernetes', '-f', FIXTURE, '-o', 'json'], { env });
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout) as {
      project: string;
      objects: unknown[];
      warnings: { agent: string; field: string; message: string }[];
    };
    expect(json.project).toBe('k8sdemo');
    expect(json.objects).toHaveLength(9);
    expect(json.warnings).toContainEqual(expect.objectContaining({ agent: 'coder', field: 'env.API_KEY' }));
    // Docker-only fields are warnings of the same shape: agent, field, message.
    expect(json.warnings).toContainEqual({
      agent: 'own-image',
      field: 'build',
      message: expect.stringMatching(/^image "k8sdemo-agent:dev" is built by agentctl on the local engine/),
    });
    expect(json.warnings).toContainEqual({
      agent: 'remote',
      field: 'engine',
      message: expect.stringMatching(/^gpu-box: a cluster has no agentctl engines/),
    });
    const bad = agentctl(['render', '-f', FIXTURE], { env });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('agentctl: render needs a target: --kubernetes\n');
  });
});
