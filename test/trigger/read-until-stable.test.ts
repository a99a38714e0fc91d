import { expect } from 'chai';
import { readUntilStable, STABLE_MAX_READS } from '../../trigger/run/aws-backend';
import type { Measured } from '../../trigger/report/summary';
import { FakeClock } from './helpers/fake-clock';

/** A measurement whose only series counts `ok` successful statements. */
function measured(ok: number): { measured: Measured } {
  return {
    measured: {
      timeline: {
        startMs: 0, stepSeconds: 1, steps: 1,
        series: [{ op: 'select', target: 'reader', ok: [ok], errors: {}, skipped: [0], latency: [null], scheduleLag: [null], answeredBy: { primary: [0], standby: [ok] } }],
        messages: { ok: [1], failed: [0], invalid: [0], dwell: [null] },
      },
      distributions: { series: [], dwell: null },
    },
  };
}

describe('trigger: reading an AWS run until its counts are stable', () => {
  const io = () => ({ clock: new FakeClock(0), signal: new AbortController().signal });

  it('reads until two reads in a row count the same statements, and returns the last', async () => {
    const counts = [10, 40, 40, 40];
    let reads = 0;
    const out = await readUntilStable(async () => measured(counts[reads++]!), io());
    expect(reads).to.equal(3);
    expect(out.stable).to.equal(true);
    expect(out.measured.timeline.series[0]!.ok).to.deep.equal([40]);
  });

  it('stops after its most reads when the counts keep growing, and says they were not stable', async () => {
    let reads = 0;
    const out = await readUntilStable(async () => measured(++reads), io());
    expect(reads).to.equal(STABLE_MAX_READS);
    expect(out.stable).to.equal(false);
  });
});
