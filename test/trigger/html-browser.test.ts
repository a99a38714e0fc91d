import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOffline, type OfflinePage } from '../../bench/lib/offline-browser';
import { needChromium } from '../helpers/chromium';
import { syntheticRun } from '../../bench/lib/synthetic-run';
import { compareRuns, evaluateRegressions } from '../../trigger/report/compare';
import { renderCompareHtml, renderRunHtml } from '../../trigger/report/html/render';
import { reportData } from '../../trigger/report/html/report-data';

/** Screenshots of the pages, kept as test artifacts (gitignored). */
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

interface ChartCheck {
  readonly id: string;
  readonly points: number;
  readonly min: number;
  readonly max: number;
  /** Pixels of the plot area drawn in one of the chart's series colours. */
  readonly inked: number;
  /** The share of the plot's height tinted orange just inside the first shaded window. */
  readonly shade: number | null;
}

/**
 * What each chart on the page drew, read from its uPlot instance and its canvas. Plain JavaScript
 * in a string: the test runner's transform would add helpers the page does not have.
 */
const CHECK_CHARTS = `(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return window.__report.charts.map(({ id, u }) => {
    const colors = data.charts.find((c) => c.id === id).tables.flatMap((t) => t.series.map((s) => rgb(s.color)));
    const { left, top, width, height } = u.bbox;
    const img = u.ctx.getImageData(left, top, width, height).data;
    let inked = 0;
    for (let i = 0; i < img.length; i += 4) {
      if (colors.some((c) => Math.abs(c[0] - img[i]) + Math.abs(c[1] - img[i + 1]) + Math.abs(c[2] - img[i + 2]) < 30)) inked++;
    }
    const sh = data.shades[0];
    let shade = null;
    if (sh) {
      const col = u.ctx.getImageData(Math.round(u.valToPos(sh.from, 'x', true)) + 2, top, 1, height).data;
      let tinted = 0;
      for (let i = 0; i < col.length; i += 4) if (col[i] > col[i + 1] && col[i + 1] > col[i + 2] && col[i + 2] < 245) tinted++;
      shade = tinted / height;
    }
    const points = u.data.slice(1).reduce((n, ys) => n + ys.filter((y) => y != null).length, 0);
    return { id, points, min: u.scales.x.min, max: u.scales.x.max, inked, shade };
  });
})()`;

function checkCharts(p: OfflinePage): Promise<ChartCheck[]> {
  return p.page.evaluate(CHECK_CHARTS) as Promise<ChartCheck[]>;
}

const READY = '!!window.__report';

describe('trigger: the HTML report in a real browser (headless Chromium, network off)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'report-browser-'));
  const record = syntheticRun({ seconds: 20, failoverAt: 8 });
  let page: OfflinePage | undefined;

  before(function () {
    needChromium(this);
  });
  afterEach(async () => {
    await page?.close();
    page = undefined;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('opens a run\'s report from disk with no request, no error, and every chart drawn over the run\'s time range', async () => {
    const file = join(dir, 'run.html');
    writeFileSync(file, renderRunHtml({ record, thresholds: [{ threshold: 'p99<50ms', ok: true, actual: '9.10 ms (select/reader)' }] }));
    page = await openOffline(file);
    await page.page.waitForFunction(READY);
    const charts = await checkCharts(page);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });

    expect(page.blocked, 'requests').to.deep.equal([]);
    expect(page.errors, 'console errors').to.deep.equal([]);
    const expected = reportData([record]);
    expect(charts.map((c) => c.id)).to.deep.equal(expected.charts.map((c) => c.id));
    const t = record.timeline;
    const range = [(t.startMs - record.facts.loadStartAt) / 1000, (t.startMs + t.steps * 1000 - record.facts.loadStartAt) / 1000];
    for (const c of charts) {
      expect([c.min, c.max], `${c.id}: x range`).to.deep.equal(range);
      expect(c.points, `${c.id}: points`).to.be.greaterThan(0);
      expect(c.inked, `${c.id}: pixels in its series' colours`).to.be.greaterThan(20);
      // The failover, shaded on every chart: orange over white, behind the grid and the lines.
      expect(c.shade, `${c.id}: share of the failover's column shaded`).to.be.greaterThan(0.5);
    }
  });

  it('opens a comparison with both runs joined on each chart', async () => {
    const a = syntheticRun({ runId: 'a', seconds: 10 });
    const b = syntheticRun({ runId: 'b', seconds: 10, slower: 1.2, loadStartAt: 1_800_000_100_250 });
    const file = join(dir, 'compare.html');
    writeFileSync(file, renderCompareHtml({ a, b, comparison: compareRuns(a.summary, b.summary), regressions: evaluateRegressions(a.summary, b.summary, []) }));
    page = await openOffline(file);
    await page.page.waitForFunction(READY);
    const series = await page.page.evaluate(`window.__report.charts.find((c) => c.id === 'latency').u.series.map((s) => s.label)`) as string[];
    expect(page.blocked).to.deep.equal([]);
    expect(page.errors).to.deep.equal([]);
    expect(series.filter((l) => l.startsWith('A '))).to.have.length(4);
    expect(series.filter((l) => l.startsWith('B '))).to.have.length(4);
  });
});
