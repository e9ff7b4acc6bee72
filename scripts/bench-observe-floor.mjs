#!/usr/bin/env node
// The floor of a no-op apply and of ps, as a whole process (scripts/bench-scale.mjs runs it beside them,
// alternating): what a hand-written client must do to know that nothing of a project drifted. Node's
// start-up, one list call by the project's label, and an inspect of every container (16 in flight, as
// agentctl does): `docker update` changes limits that only inspect shows.
//
//   node scripts/bench-observe-floor.mjs PROJECT
import { engineClient, pool } from './bench-lib.mjs';

const project = process.argv[2];
if (!project) throw new Error('usage: bench-observe-floor.mjs PROJECT');
const { api, close } = engineClient({ maxSockets: 16 });
const filters = encodeURIComponent(JSON.stringify({ label: [`agentctl.project=${project}`] }));
const list = await api('GET', `/containers/json?all=1&filters=${filters}`);
let inspected = 0;
await pool(
  list.map((c) => c.Id),
  16,
  async (id) => {
    await api('GET', `/containers/${id}/json`);
    inspected++;
  },
);
close();
if (inspected !== list.length || list.length === 0)
  throw new Error(`inspected ${inspected} of ${list.length}`);
