/**
 * render --kubernetes, offline: golden manifests (regenerate with UPDATE_GOLDEN=1 and review the diff),
 * determinism, schema validation (Kubernetes' own schemas from kubernetes-models for Pod, StatefulSet,
 * NetworkPolicy and claims; a closed subset of agent-sandbox's Sandbox CRD), and the Pod Security
 * Standards levels the pods meet, with a warning for every field Kubernetes cannot express.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Pod } from 'kubernetes-models/v1/Pod';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { renderFleet } from '../../src/ops/render.js';
import type { DesiredState } from '../../src/types.js';
import { escapeRegExp } from '../../src/util/regexp.js';
import { CONTAINER_FIELDS, POD_FIELDS, SANDBOX_SCHEMA } from '../fixtures/kubernetes/sandbox-schema.js';
import { podSecurityViolations } from '../helpers/pod-security.js';

const DIR = path.resolve('test/fixtures/kubernetes');
const OPTS = { storage: '10Gi' };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

let desired: DesiredState;
beforeAll(async () => {
  desired = await loadConfig(path.join(DIR, 'agents.yaml'));
});

function golden(name: string, actual: string): void {
  const file = path.join(DIR, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const pods = (objects: Obj[]): [string, Obj][] =>
  objects.flatMap((o: Obj): [string, Obj][] =>
    o.kind === 'Sandbox'
      ? [[o.metadata.name, o.spec.podTemplate.spec]]
      : o.kind === 'StatefulSet'
        ? [[o.metadata.name, o.spec.template.spec]]
        : [],
  );

describe.each(['sandbox', 'statefulset'] as const)('render --kubernetes --workload %s', (workload) => {
  const render = () => renderFleet(desired, { ...OPTS, workload });

  it('matches the golden manifests, byte for byte, and is deterministic', async () => {
    const r = render();
    golden(`${workload}.golden.yaml`, r.text);
    expect(render().text).toBe(r.text);
    // Declaration order in the file does not matter.
    const reordered = { ...desired, agents: [...desired.agents].reverse() };
    expect(renderFleet(reordered, { ...OPTS, workload }).text).toBe(r.text);
    // One file per agent plus a kustomization listing them.
    expect(r.files.map((f) => f.name)).toEqual([
      'k8s-coder.yaml',
      'k8s-fenced.yaml',
      'k8s-host.yaml',
      'k8s-own-image.yaml',
      'k8s-paused.yaml',
      'k8s-remote.yaml',
      'k8s-sealed.yaml',
      'kustomization.yaml',
    ]);
  });

  it("validates against Kubernetes' schemas (and the Sandbox CRD subset)", () => {
    const objects: Obj[] = render().agents.flatMap((a) => a.objects);
    const ajv = new Ajv({ allErrors: true, strict: false });
    const sandbox = ajv.compile(SANDBOX_SCHEMA);
    for (const o of objects) {
      if (o.kind === 'Sandbox') {
        expect(sandbox(o), JSON.stringify(sandbox.errors)).toBe(true);
        for (const c of o.spec.volumeClaimTemplates) {
          new PersistentVolumeClaim({ metadata: c.metadata, spec: c.spec }).validate();
        }
      } else if (o.kind === 'StatefulSet') {
        new StatefulSet(o).validate();
      } else if (o.kind === 'NetworkPolicy') {
        new NetworkPolicy(o).validate();
      } else {
        throw new Error(`unexpected kind ${o.kind}`);
      }
    }
    for (const [name, pod] of pods(objects)) {
      new Pod({ metadata: { name }, spec: pod }).validate();
      expect(Object.keys(pod).filter((k) => !POD_FIELDS.has(k))).toEqual([]);
      for (const c of pod.containers)
        expect(Object.keys(c).filter((k) => !CONTAINER_FIELDS.has(k))).toEqual([]);
    }
  });

  it('meets Pod Security "restricted" where the fields allow it, "baseline" unless the file asks for the host network', () => {
    const levels = Object.fromEntries(
      pods(render().agents.flatMap((a) => a.objects)).map(([name, pod]) => [
        name,
        {
          baseline: podSecurityViolations(pod, 'baseline'),
          restricted: podSecurityViolations(pod, 'restricted'),
        },
      ]),
    );
    expect(levels['k8s-sealed']).toEqual({ baseline: [], restricted: [] });
    expect(levels['k8s-own-image']).toEqual({ baseline: [], restricted: [] });
    expect(levels['k8s-remote']).toEqual({ baseline: [], restricted: [] });
    expect(levels['k8s-coder']?.baseline).toEqual([]);
    expect(levels['k8s-fenced']?.baseline).toEqual([]);
    // The default capability additions are baseline's, not restricted's: said by a warning.
    expect(levels['k8s-coder']?.restricted).toEqual([
      'agent: restricted adds only NET_BIND_SERVICE, not CHOWN',
      'agent: restricted adds only NET_BIND_SERVICE, not DAC_OVERRIDE',
      'agent: restricted adds only NET_BIND_SERVICE, not SETGID',
      'agent: restricted adds only NET_BIND_SERVICE, not SETUID',
    ]);
    expect(levels['k8s-host']?.baseline).toEqual(['hostNetwork: true']);
  });

  it('warns, naming agent and field, for everything Kubernetes cannot express', () => {
    const r = render();
    golden(
      `${workload}.warnings.golden.txt`,
      r.warnings.map((w) => `${w.agent}: ${w.field}: ${w.message}\n`).join(''),
    );
    const fields = (agent: string) => r.warnings.filter((w) => w.agent === agent).map((w) => w.field);
    expect(fields('sealed')).toEqual(
      expect.arrayContaining(['ulimits.nofile', 'pids', 'tmpfs./tmp/agent', 'logs']),
    );
    expect(fields('sealed')).not.toContain('capabilities.add');
    expect(fields('coder')).toEqual(expect.arrayContaining(['capabilities.add', 'env.API_KEY']));
    expect(fields('host')).toEqual(expect.arrayContaining(['user', 'network']));
    expect(fields('own-image')).toContain('build');
    expect(fields('remote')).toContain('engine');
  });
});

describe('render --kubernetes mapping details', () => {
  const objectsOf = (workload: 'sandbox' | 'statefulset', name: string): Obj[] =>
    renderFleet(desired, { ...OPTS, workload }).agents.find((a) => a.agent === name)?.objects ?? [];

  it('never writes a secret value: the pod reads it from a Secret the user makes', () => {
    const coder = objectsOf('sandbox', 'coder')[0];
    const env = coder.spec.podTemplate.spec.containers[0].env;
    expect(env.find((e: Obj) => e.name === 'API_KEY')).toEqual({
      name: 'API_KEY',
      valueFrom: { secretKeyRef: { name: 'k8sdemo-agent-secrets', key: 'coder.API_KEY' } },
    });
  });

  it('maps state, restart, runtime, network none and init', () => {
    const [paused] = objectsOf('sandbox', 'paused');
    expect(paused.spec.operatingMode).toBe('Suspended');
    expect(paused.spec.podTemplate.spec.restartPolicy).toBe('OnFailure');
    expect(objectsOf('statefulset', 'paused')[0].spec.replicas).toBe(0);
    const sealed = objectsOf('sandbox', 'sealed');
    expect(sealed[0].spec.podTemplate.spec.runtimeClassName).toBe('gvisor');
    expect(sealed[0].spec.podTemplate.spec.shareProcessNamespace).toBe(true);
    expect(sealed[1]).toMatchObject({
      kind: 'NetworkPolicy',
      spec: {
        podSelector: { matchLabels: { 'agentctl.agent': 'sealed', 'agentctl.project': 'k8sdemo' } },
        policyTypes: ['Ingress', 'Egress'],
      },
    });
    expect(sealed[1].spec.ingress).toBeUndefined();
    expect(sealed[1].spec.egress).toBeUndefined();
  });

  it("maps an egress allow-list to a NetworkPolicy of its CIDR rules, without the gateway's proxy", () => {
    const [sandbox, policy] = objectsOf('sandbox', 'fenced');
    const env = sandbox.spec.podTemplate.spec.containers[0].env.map((e: Obj) => e.name);
    expect(env).not.toContain('HTTPS_PROXY');
    expect(env).toContain('AGENT_ID');
    expect(policy).toMatchObject({
      kind: 'NetworkPolicy',
      metadata: { name: 'k8s-fenced-egress' },
      spec: {
        podSelector: { matchLabels: { 'agentctl.agent': 'fenced', 'agentctl.project': 'k8sdemo' } },
        policyTypes: ['Ingress', 'Egress'],
      },
    });
    expect(policy.spec.ingress).toBeUndefined();
    const blocks = policy.spec.egress.flatMap((r: Obj) => r.to.map((p: Obj) => p.ipBlock.cidr)).sort();
    // The host names are left out (fail closed); only the CIDR rules are there.
    expect(blocks).toEqual(['10.0.0.0/8', '10.2.3.4/32', '192.168.1.0/24', '198.51.100.7/32']);
    const warned = renderFleet(desired, { ...OPTS, workload: 'sandbox' })
      .warnings.filter((w) => w.agent === 'fenced' && w.field.startsWith('egress'))
      .map((w) => `${w.field}: ${w.message.split(' names')[0]}`);
    expect(warned).toEqual([
      expect.stringMatching(/^egress: the egress gateway exists only under Docker/),
      'egress.allow: "*.github.com"',
      'egress.allow: "api.example.com:443"',
      'egress.deny: "evil.example.com"',
    ]);
  });

  it('refuses names Kubernetes cannot take, naming the agent', () => {
    const bad = { ...desired, agents: desired.agents.map((a) => ({ ...a, name: `Big_${a.id}` })) };
    expect(() => renderFleet(bad, { ...OPTS, workload: 'sandbox' })).toThrow(
      /agent coder: container name "Big_coder" is not a valid Kubernetes object name/,
    );
  });
});

describe('render --kubernetes: what exists under Docker only', () => {
  const parse = (agents: string[]) =>
    parseConfig(
      [
        'version: 1',
        'engines:',
        '  gpu-box: { host: "ssh://ops@gpu-box", runtimeDir: /srv/agentctl }',
        'agents:',
        ...agents.map((a) => `  ${a}`),
      ].join('\n'),
      { file: '/srv/demo/agents.yaml', baseDir: '/srv/demo', defaultProject: 'demo' },
    );
  const BUILT = 'build: image "tools:1" is built by agentctl on the local engine and exists only there';
  const PINNED = 'engine: gpu-box: a cluster has no agentctl engines';
  // Agent `a` is the one looked at; the others are there for what they build.
  const cases: [string, string[], string[]][] = [
    ['a pulled image on the local engine', ['a: { image: "tools:1" }'], []],
    ['an image its own build: makes', ['a: { image: "tools:1", build: { context: ./tools } }'], [BUILT]],
    [
      "an image another agent's build: makes",
      ['a: { image: "tools:1" }', 'b: { image: "tools:1", build: { context: ./tools } }'],
      [BUILT],
    ],
    [
      'another image than the one built',
      ['a: { image: "tools:2" }', 'b: { image: "tools:1", build: { context: ./tools } }'],
      [],
    ],
    ['an agent on engine gpu-box, warned once', ['a: { image: "tools:1", engine: gpu-box }'], [PINNED]],
    ['an agent naming the local engine', ['a: { image: "tools:1", engine: local }'], []],
  ];
  it.each(cases)('%s', (_name, agents, expected) => {
    const state = parse(agents);
    for (const workload of ['sandbox', 'statefulset'] as const) {
      const r = renderFleet(state, { ...OPTS, workload });
      const warned = r.warnings
        .filter((w) => w.agent === 'a' && (w.field === 'build' || w.field === 'engine'))
        .map((w) => `${w.field}: ${w.message}`);
      expect(warned).toEqual(expected.map((e) => expect.stringMatching(`^${escapeRegExp(e)}`)));
      // The manifest keeps the image as written: the warning says it must be pushed under that name.
      const pod = pods(r.agents.find((a) => a.agent === 'a')?.objects ?? [])[0]?.[1];
      expect(pod.containers[0].image).toBe(state.agents.find((s) => s.id === 'a')?.image);
    }
  });
});

describe('render --kubernetes: who can write /mnt', () => {
  const renderUser = (user: string | undefined) => {
    const state = parseConfig(
      [
        'version: 1',
        'agents:',
        `  a: { capabilities: { add: [] }${user !== undefined ? `, user: ${user}` : ''} }`,
      ].join('\n'),
      { file: '/srv/demo/agents.yaml', baseDir: '/srv/demo', defaultProject: 'demo' },
    );
    const r = renderFleet(state, { ...OPTS, workload: 'sandbox' });
    return {
      pod: pods(r.agents[0]?.objects ?? [])[0]?.[1],
      userWarning: r.warnings.find((w) => w.field === 'user')?.message,
    };
  };
  // fsGroup is the claim's group: the GID, or the uid when none is given (the agent is then a member of
  // it whatever its primary group), so a non-root uid can write /mnt as under Docker. Without a numeric
  // uid there is none, and the user warning says what that costs.
  const NO_FSGROUP = /with no fsGroup, so \/mnt may not be writable by it/;
  const cases: [string, string | undefined, Obj, Obj, string[], RegExp | undefined][] = [
    ['a uid alone', "'1000'", { runAsNonRoot: true, runAsUser: 1000 }, { fsGroup: 1000 }, [], undefined],
    [
      'a uid as a YAML number',
      '1000',
      { runAsNonRoot: true, runAsUser: 1000 },
      { fsGroup: 1000 },
      [],
      undefined,
    ],
    [
      'a uid and a gid',
      "'1000:2000'",
      { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 2000 },
      { fsGroup: 2000 },
      [],
      undefined,
    ],
    [
      'root',
      "'0'",
      { runAsUser: 0 },
      { fsGroup: 0 },
      ['agent: runAsNonRoot not true', 'agent: runAsUser 0'],
      undefined,
    ],
    ['a user name', 'agent', { runAsNonRoot: true }, {}, [], NO_FSGROUP],
    ['no user', undefined, { runAsNonRoot: true }, {}, [], NO_FSGROUP],
  ];
  it.each(cases)('%s', (_name, user, container, podSc, restricted, userWarning) => {
    const { pod, userWarning: warned } = renderUser(user);
    const { runAsNonRoot, runAsUser, runAsGroup } = pod.containers[0].securityContext;
    expect({ runAsNonRoot, runAsUser, runAsGroup }).toEqual(container);
    expect(pod.securityContext).toEqual({ ...podSc, seccompProfile: { type: 'RuntimeDefault' } });
    expect(podSecurityViolations(pod, 'restricted')).toEqual(restricted);
    if (userWarning) expect(warned).toMatch(userWarning);
    else expect(warned).toBeUndefined();
  });
});
