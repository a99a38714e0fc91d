import { resolveRunOptions, type RawRunOptions } from '../options/run-options';
import type { CliIo } from './io';

/** The `run` command: validate the flags, then run locally or in AWS. */
export async function runCommand(raw: RawRunOptions, io: CliIo): Promise<number> {
  const s = resolveRunOptions(raw);
  if (s.demo) {
    io.err('demo: the whole load test on this machine: an embedded PostgreSQL writer, a streaming hot standby,');
    io.err('an in-process queue with SQS semantics and the same worker code as in AWS. Ctrl-C stops it cleanly.');
  }
  if (s.where === 'local') {
    const { runLocal } = require('./run-local') as typeof import('./run-local');
    const code = await runLocal(s, io);
    if (s.demo && code === 0) {
      io.err('next: node trigger --help (rates, ramps, thresholds), node trigger --local --workload tpcb, or deploy and run in AWS (README)');
    }
    return code;
  }
  const { runAws } = require('./run-aws') as typeof import('./run-aws');
  return runAws(s, io);
}
