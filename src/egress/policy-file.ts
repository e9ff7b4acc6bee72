/**
 * The gateway's policy file, `<runtimeDir>/.agentctl/<project>/egress/policy.json`: written by agentctl
 * (atomically: a complete file is renamed into place, so the gateway never reads half of one) and
 * bind-mounted read-only into the gateway, which re-reads it when it changes.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DesiredPolicy, PolicyEntry } from '../types.js';
import { assertNoSymlinks } from '../reconcile/workdir.js';
import { ensureProjectStateDir } from '../secrets/state-dir.js';
import { slotAddress } from './address.js';
import { hostAddresses } from './host-addresses.js';

export const POLICY_FILE = 'policy.json';

export interface PolicyFileData {
  version: 1;
  /** address -> agent and rules */
  agents: Record<string, { agent: string; allow: string[]; deny: string[] }>;
  hostAddresses: string[];
}

export async function readPolicy(
  policyDir: string,
): Promise<{ entries: PolicyEntry[]; hostAddresses: string[] } | undefined> {
  try {
    const data = JSON.parse(await fs.readFile(path.join(policyDir, POLICY_FILE), 'utf8')) as PolicyFileData;
    const entries = Object.entries(data.agents ?? {}).map(([address, a]) => ({
      agent: String(a.agent),
      address,
      allow: [...(a.allow ?? [])],
      deny: [...(a.deny ?? [])],
    }));
    return { entries, hostAddresses: [...(data.hostAddresses ?? [])] };
  } catch {
    return undefined;
  }
}

export async function writePolicy(
  runtimeDir: string,
  project: string,
  policyDir: string,
  policy: DesiredPolicy,
  subnet: string,
): Promise<void> {
  await ensureProjectStateDir(runtimeDir, project);
  await assertNoSymlinks(runtimeDir, policyDir);
  // Readable by the gateway's unprivileged user; the 0700 directory above keeps other host users out.
  await fs.mkdir(policyDir, { recursive: true, mode: 0o755 });
  await fs.chmod(policyDir, 0o755);
  const data: PolicyFileData = {
    version: 1,
    agents: Object.fromEntries(
      policy.entries.map((e) => [
        slotAddress(subnet, e.slot),
        { agent: e.agent, allow: e.allow, deny: e.deny },
      ]),
    ),
    // The planned addresses, plus those the host has gained since it was observed: the run that writes
    // this file may itself have created the gateway's outbound network, whose bridge is a new host
    // address the gateway must refuse too (and the next diff would see it missing).
    hostAddresses: [...new Set([...policy.hostAddresses, ...hostAddresses()])].sort(),
  };
  const tmp = path.join(policyDir, `.${POLICY_FILE}.${randomBytes(4).toString('hex')}`);
  await fs.writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o644 });
  await fs.rename(tmp, path.join(policyDir, POLICY_FILE));
}
