/**
 * `npx tsx bench/init-scale.ts [scale ...]` (default 1 10 100): how long the tpcb init (create,
 * load, primary keys, VACUUM ANALYZE; what the stack's schema custom resource runs on deploy) takes
 * per scale factor on the local engine, through the worker's own init. Prints the numbers; asserts
 * nothing. They size the init's statement timeout (INIT_TIMEOUT in handlers/workloads/tpcb.ts) and
 * the largest Scale a deploy may ask for (app/config.ts).
 */
import { performance } from 'node:perf_hooks';
import { initStatementTimeoutMs } from '../handlers/workloads/tpcb';
import { LocalCluster } from '../trigger/local/cluster';
import { benchWorker } from './lib/bench-worker';
import { machineFacts } from './lib/proc';

async function main(): Promise<void> {
  const scales = process.argv.slice(2).map(Number);
  if (scales.some((s) => !Number.isInteger(s) || s < 1)) throw new Error('usage: npx tsx bench/init-scale.ts [scale ...] (positive integers)');
  const facts = machineFacts();
  process.stdout.write(`machine: ${JSON.stringify(facts)}\n`);
  const cluster = await LocalCluster.start();
  const { worker } = benchWorker(cluster, 1);
  try {
    process.stdout.write('scale  accounts     init s  s per scale  statement timeout s\n');
    for (const scale of scales.length ? scales : [1, 10, 100]) {
      const t0 = performance.now();
      // A different scale than the last one reloads the tables (they carry this project's marker).
      await worker.init('tpcb', { scale });
      const seconds = (performance.now() - t0) / 1000;
      process.stdout.write(`${String(scale).padStart(5)}  ${String(scale * 100_000).padStart(10)}  ${seconds.toFixed(1).padStart(8)}  ${(seconds / scale).toFixed(2).padStart(11)}  ${String(initStatementTimeoutMs(scale) / 1000).padStart(19)}\n`);
    }
  } finally {
    await worker.close();
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
