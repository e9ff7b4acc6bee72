/** `agentctl render --kubernetes`: the file as Kubernetes manifests, as text and as files for GitOps. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { AgentctlError, formatAt } from '../errors.js';
import {
  nameProblem,
  type RenderOptions,
  type RenderResult,
  type RenderWarning,
  renderKubernetes,
} from '../kubernetes/manifests.js';
import type { DesiredState } from '../types.js';

export type { RenderOptions, RenderWarning };

export interface RenderedFile {
  /** Relative to the output directory. */
  name: string;
  content: string;
}

export interface KubernetesRender extends RenderResult {
  /** One file per agent, `<container name>.yaml`, and a kustomization.yaml listing them. */
  files: RenderedFile[];
  /** Every object, as one multi-document YAML stream. */
  text: string;
}

/** Refuses (naming each agent) a fleet whose names cannot name Kubernetes objects. */
export function renderFleet(desired: DesiredState, opts: RenderOptions): KubernetesRender {
  const problems = desired.agents.flatMap((a) => {
    const p = nameProblem(a);
    return p ? [formatAt(desired.positions[a.id], `agent ${a.id}: ${p}`)] : [];
  });
  if (problems.length > 0) {
    throw new AgentctlError('config', problems[0] ?? '', { details: problems.slice(1) });
  }
  const result = renderKubernetes(desired, opts);
  const docs = (objects: Record<string, unknown>[]) =>
    objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
  const files = result.agents.map((a) => ({
    name: `${desired.agents.find((s) => s.id === a.agent)?.name ?? a.agent}.yaml`,
    content: docs(a.objects),
  }));
  const kustomization = stringify(
    {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: files.map((f) => f.name),
    },
    { lineWidth: 0 },
  );
  return {
    ...result,
    files: [...files, { name: 'kustomization.yaml', content: kustomization }],
    text: docs(result.agents.flatMap((a) => a.objects)),
  };
}

/** Writes the files into `dir` (made if missing); other files there are left alone. */
export async function writeRendered(dir: string, files: readonly RenderedFile[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const f of files) {
    const target = path.join(dir, f.name);
    await writeFile(target, f.content);
    written.push(target);
  }
  return written;
}

/** `file:line:col: warning: agent X: field: message`, where the agent is declared. */
export function formatRenderWarning(desired: DesiredState, w: RenderWarning): string {
  return formatAt(desired.positions[w.agent], `warning: agent ${w.agent}: ${w.field}: ${w.message}`);
}
