import { expect } from 'chai';
import { syntheticRun } from '../../bench/lib/synthetic-run';
import { compareRuns, evaluateRegressions } from '../../trigger/report/compare';
import { renderCompareHtml, renderRunHtml } from '../../trigger/report/html/render';
import { reportData, type ReportData } from '../../trigger/report/html/report-data';

/** The page's data, as its script reads it. */
function dataOf(html: string): ReportData {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  return JSON.parse(m![1]!) as ReportData;
}

describe('trigger: the HTML report (one self-contained file)', () => {
  const record = syntheticRun({ seconds: 20, failoverAt: 8 });

  it('needs nothing outside itself: no URL to load, and a policy that forbids every request', () => {
    const html = renderRunHtml({ record, thresholds: [] });
    expect(html).to.not.match(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(html).to.not.match(/@import|url\(\s*['"]?https?:/i);
    expect(html).to.contain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`);
    expect(html).to.contain('uPlot');
  });

  it('carries the run as JSON that no text in it can break out of (a note that says </script>)', () => {
    const noted = { ...record, facts: { ...record.facts, notes: ['</script><script>alert(1)</script>'] } };
    const html = renderRunHtml({ record: noted, thresholds: [] });
    expect(dataOf(html).charts.length).to.be.greaterThan(0);
    expect(html).to.not.contain('<script>alert(1)');
    expect(html).to.contain('&lt;/script&gt;&lt;script&gt;alert(1)');
  });

  it('draws the load, the staleness probe and the database, each on the run\'s time range', () => {
    const d = reportData([record]);
    expect(d.charts.map((c) => c.id)).to.include.members(['rate', 'latency', 'errors', 'lag', 'dwell', 'answered', 'staleness', 'db-cpu', 'db-connections', 'db-commits', 'db-replicaLag']);
    const t = record.timeline;
    expect(d.range).to.deep.equal([(t.startMs - record.facts.loadStartAt) / 1000, (t.startMs + t.steps * 1000 - record.facts.loadStartAt) / 1000]);
  });

  it('shades the failover from its start to its end, in seconds since the load started', () => {
    expect(reportData([record]).shades).to.deep.equal([{ from: 8, to: 8.25, label: 'failover' }]);
    expect(reportData([syntheticRun({ seconds: 5 })]).shades).to.deep.equal([]);
  });

  it('puts the thresholds\' verdicts at the top and the run\'s settings at the bottom', () => {
    const html = renderRunHtml({ record, thresholds: [{ threshold: 'p99<50ms', ok: false, actual: '61.00 ms (select/reader)' }] });
    const verdict = html.indexOf('FAILED p99&lt;50ms: 61.00 ms (select/reader)');
    expect(verdict).to.be.greaterThan(0);
    expect(verdict).to.be.lessThan(html.indexOf('id="chart-rate"'));
    expect(html.indexOf('<h2>Settings</h2>')).to.be.greaterThan(html.indexOf('id="chart-db-cpu"'));
  });

  it('draws both runs of a comparison on the same charts, each on its own steps', () => {
    const a = syntheticRun({ runId: 'a', seconds: 10 });
    const b = syntheticRun({ runId: 'b', seconds: 10, slower: 1.2, loadStartAt: 1_800_000_100_250 });
    const comparison = compareRuns(a.summary, b.summary);
    const html = renderCompareHtml({ a, b, comparison, regressions: evaluateRegressions(a.summary, b.summary, []) });
    const latency = dataOf(html).charts.find((c) => c.id === 'latency')!;
    expect(latency.tables).to.have.length(2);
    expect(latency.tables[1]!.series.every((s) => s.label.startsWith('B ') && s.dash)).to.equal(true);
  });

  it('keeps a 1-hour run\'s report to a few MB', () => {
    const html = renderRunHtml({ record: syntheticRun({ seconds: 3600, failoverAt: 1800 }), thresholds: [] });
    expect(Buffer.byteLength(html)).to.be.below(5 * 1024 * 1024);
  });
});
