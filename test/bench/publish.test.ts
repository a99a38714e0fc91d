import { expect } from 'chai';
import { parsePgbenchLog } from '../../bench/lib/pgbench';
import { readmeTable, replaceTable, TABLE_END, TABLE_START } from '../../bench/lib/publish';
import { makeRow } from '../../bench/lib/report';

describe('benchmark results', () => {
  it('reads pgbench\'s per-transaction log: latency and schedule lag in ms, skipped and failed transactions counted apart', () => {
    const log = [
      '0 81 4621 0 1412881037 912698 3005',
      '0 82 6173 0 1412881037 914578 4304',
      '0 83 skipped 0 1412881037 914578 5217',
      '1 12 failed 0 1412881037 915000 120',
      '',
    ].join('\n');
    expect(parsePgbenchLog(log)).to.deep.equal({ latencyMs: [4.621, 6.173], lagMs: [3.005, 4.304], skipped: 1, failed: 1 });
  });

  it('publishes into the README between its markers and leaves the rest of the file as it was', () => {
    const readme = `# Title\n\nbefore\n\n${TABLE_START}\nold table\n${TABLE_END}\n\nafter\n`;
    const out = replaceTable(readme, 'new table');
    expect(out).to.equal(`# Title\n\nbefore\n\n${TABLE_START}\nnew table\n${TABLE_END}\n\nafter\n`);
    expect(() => replaceTable('# no markers\n', 'x')).to.throw(/has no .* block to publish into/);
  });

  it('says in the published table when, on what machine and how busy it was, and whether each goal was met', () => {
    const table = readmeTable(
      { date: '2026-12-01T04:00:00.000Z', mode: 'quick', durationS: 360, machine: { cpus: 2, cpuModel: 'Test CPU', node: 'v20.20.2', postgres: '16.14', othersCpuPct: 12.5 } },
      [
        makeRow('coldInitMs', 160, 'ms', { kind: 'atMost', limit: 150 }, { note: 'median of 7', othersCpuPct: 10 }),
        makeRow('coldInitMs', 120, 'ms', undefined, { at: 'no TLS', note: 'diagnostic' }),
      ],
    );
    expect(table).to.contain('Published 2026-12-01 (`npm run bench -- --quick --publish`');
    expect(table).to.contain('2 x Test CPU, Node v20.20.2, embedded PostgreSQL 16.14');
    expect(table).to.contain('Other processes took 12.5% of the machine');
    expect(table).to.contain('| `coldInitMs` | <= 150 ms | **160 ms** (miss) | 10% | median of 7 |');
    expect(table).to.contain('| `coldInitMs` (no TLS) |  | 120 ms |  | diagnostic |');
  });
});
