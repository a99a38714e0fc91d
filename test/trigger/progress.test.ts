import { expect } from 'chai';
import { Progress, progressLine } from '../../trigger/progress';

describe('trigger: progress', () => {
  it('shows elapsed, messages sent, statements with their rate, errors and queue depth on one line', () => {
    const line = progressLine({
      elapsedMs: 12_000, totalMs: 62_000, sent: 40, messages: 120, statements: 2_000, loadElapsedMs: 10_000, errors: 3,
      depth: { visible: 4, inFlight: 2 },
    });
    expect(line).to.equal('12s/1m2s | sent 40/120 msgs | 2000 stmts (200.0/s) | errors 3 | queue 4 waiting, 2 in flight');
  });

  it('writes plain lines, never carriage returns, when stderr is not a terminal', async () => {
    const written: string[] = [];
    const p = new Progress(() => ({ elapsedMs: 1_000, totalMs: 2_000, sent: 1, messages: 2 }), {
      stream: { write: (s: string) => { written.push(s); return true; }, isTTY: false },
      plainIntervalMs: 5,
    });
    p.start();
    await new Promise((r) => setTimeout(r, 40));
    p.stop();
    expect(written.length).to.be.greaterThan(1);
    for (const w of written) expect(w).to.match(/^1s\/2s \| sent 1\/2 msgs\n$/);
  });

  it('rewrites one live line on a terminal and clears it when stopped', async () => {
    const written: string[] = [];
    const p = new Progress(() => ({ elapsedMs: 0, totalMs: 1_000, sent: 0, messages: 1 }), {
      stream: { write: (s: string) => { written.push(s); return true; }, isTTY: true },
      ttyIntervalMs: 5,
    });
    p.start();
    await new Promise((r) => setTimeout(r, 30));
    p.stop();
    expect(written[0]).to.match(/^\r\x1b\[2K0s\/1s/);
    expect(written.at(-1)).to.equal('\r\x1b[2K');
    expect(written.join('')).not.to.contain('\n');
  });
});
