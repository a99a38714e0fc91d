/**
 * `npm run screenshot`: the README's picture of the HTML report, from a real run. It runs
 * `node trigger --local --rate 200 --duration 20s --failover-at 8s --html ...` in a temporary
 * directory, opens the file in headless Chromium with the network off (bench/lib/offline-browser.ts),
 * and saves the top of the page as bench/figures/report.png. It also prints the size of that
 * report and of a 1-hour run's (a synthetic record of the same shape: bench/lib/synthetic-run.ts).
 * Nothing here is a test; it fails only when the run or the browser does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { renderRunHtml } from '../trigger/report/html/render';
import { openOffline } from './lib/offline-browser';
import { syntheticRun } from './lib/synthetic-run';

const ROOT = path.join(__dirname, '..');
const OUT = path.join(__dirname, 'figures', 'report.png');

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'report-figures-'));
  try {
    const html = path.join(dir, 'run.html');
    const args = ['trigger', '--local', '--rate', '200', '--duration', '20s', '--failover-at', '8s', '--threshold', 'p99<50ms', '--threshold', 'errors<1%', '--html', html, '--run-id', 'readme-report'];
    process.stderr.write(`running: node ${args.join(' ')}\n`);
    const run = spawnSync(process.execPath, args.map((a, i) => (i === 0 ? path.join(ROOT, a) : a)), { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
    if (run.status !== 0) throw new Error(`the run exited ${run.status}`);
    const page = await openOffline(html, 1360, 1000);
    try {
      await page.page.waitForFunction('!!window.__report');
      if (page.blocked.length || page.errors.length) throw new Error(`the page asked for ${page.blocked.join(', ')} or failed: ${page.errors.join('; ')}`);
      // The top of the page: verdicts, key figures, the summary, the drill, the rate, latency, errors and staleness.
      const bottom = await page.page.evaluate(`document.getElementById('chart-staleness').getBoundingClientRect().bottom + window.scrollY + 12`) as number;
      await page.page.screenshot({ path: OUT, fullPage: true, clip: { x: 0, y: 0, width: 1360, height: Math.ceil(bottom) } });
    } finally {
      await page.close();
    }
    const hour = Buffer.byteLength(renderRunHtml({ record: syntheticRun({ seconds: 3600, failoverAt: 1800 }), thresholds: [] }));
    process.stdout.write(`${path.relative(ROOT, OUT)} written (${(statSync(OUT).size / 1024).toFixed(0)} KB)\n`);
    process.stdout.write(`report of the 20 s run: ${(statSync(html).size / 1024).toFixed(0)} KB; of a 1-hour run (two operations, probe, two servers): ${(hour / 1024 / 1024).toFixed(2)} MB\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
