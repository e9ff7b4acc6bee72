import { type Command, Option } from 'commander';
import { AgentctlError } from '../../errors.js';
import { formatRenderWarning, renderFleet, writeRendered } from '../../ops/render.js';
import { fileOption, loadDesired, outputOption, printJson, type OutputFormat } from '../io.js';

interface RenderFlags {
  file: string;
  output: OutputFormat;
  kubernetes?: boolean;
  outDir?: string;
  workload: 'sandbox' | 'statefulset';
  storage: string;
  storageClass?: string;
  namespace?: string;
}

export function registerRender(program: Command): void {
  program
    .command('render')
    .description('turn the agents file into manifests for another platform (no engine needed)')
    .addOption(fileOption())
    .addOption(outputOption())
    .option('--kubernetes', 'Kubernetes manifests (the only target today)')
    .option('--out-dir <dir>', 'write one file per agent and a kustomization.yaml there, instead of stdout')
    .addOption(
      new Option('--workload <kind>', 'agent-sandbox Sandbox objects, or plain StatefulSets')
        .choices(['sandbox', 'statefulset'])
        .default('sandbox'),
    )
    .option('--storage <quantity>', "size of each agent's /mnt volume claim", '10Gi')
    .option('--storage-class <name>', 'storageClassName of the claims (default: the cluster default)')
    .option('--namespace <name>', 'namespace written into every object (default: none, kubectl -n decides)')
    .addHelpText(
      'after',
      '\nExample:\n  agentctl render --kubernetes -f agents.yaml --out-dir deploy/agents\n  kubectl apply -k deploy/agents',
    )
    .action(async (opts: RenderFlags) => {
      if (!opts.kubernetes) throw new AgentctlError('usage', 'render needs a target: --kubernetes');
      const desired = await loadDesired(opts.file, { quietWarnings: opts.output === 'json' });
      const r = renderFleet(desired, {
        workload: opts.workload,
        storage: opts.storage,
        storageClass: opts.storageClass,
        namespace: opts.namespace,
      });
      if (opts.output === 'json') {
        printJson({
          project: desired.project,
          objects: r.agents.flatMap((a) => a.objects),
          warnings: r.warnings,
          // The files written with --out-dir; null when the objects went to stdout only.
          files: opts.outDir !== undefined ? await writeRendered(opts.outDir, r.files) : null,
        });
        return;
      }
      for (const w of r.warnings) process.stderr.write(`${formatRenderWarning(desired, w)}\n`);
      if (opts.outDir === undefined) {
        process.stdout.write(r.text);
        return;
      }
      for (const f of await writeRendered(opts.outDir, r.files)) process.stdout.write(`wrote ${f}\n`);
    });
}
