/**
 * One self-contained HTML file for a run (or two runs compared): the verdicts and the summary at
 * the top, the charts on one time axis, the database beside the load, the run's settings at the
 * bottom. uPlot's script and style are read from node_modules and inlined with the page's own and
 * the data (JSON in a script tag), and a Content-Security-Policy forbids every request, so the
 * file opens from disk, offline, in any current browser.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CLASSES, type ErrorClass } from '../../../handlers/contract';
import { formatOutage } from '../../drills/outage';
import { formatReconciliation } from '../../drills/reconcile';
import { formatDuration } from '../../options/duration';
import { changeText, type Comparison, type RegressionResult } from '../compare';
import { achievedLine, databaseFacts, databaseRows, formatSummary } from '../format';
import type { RunRecord } from '../run-record';
import type { RunSummary } from '../summary';
import type { ThresholdResult } from '../thresholds';
import { reportData, type ChartSpec } from './report-data';

/** The scripts and styles the page inlines. */
export interface HtmlAssets {
  readonly uplotJs: string;
  readonly uplotCss: string;
  readonly clientJs: string;
}

/** uPlot from node_modules and the page's own script, read once. */
function loadAssets(): HtmlAssets {
  const dist = join(require.resolve('uplot/package.json'), '..', 'dist');
  return {
    uplotJs: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(join(dist, 'uPlot.min.css'), 'utf8'),
    clientJs: readFileSync(join(__dirname, 'client.js'), 'utf8'),
  };
}

/** One run: its record and its thresholds' verdicts. */
export interface RunPage {
  readonly record: RunRecord;
  readonly thresholds: readonly ThresholdResult[];
}

/** Two runs: A and B, their comparison and the regression limits' verdicts. */
export interface ComparePage {
  readonly a: RunRecord;
  readonly b: RunRecord;
  readonly comparison: Comparison;
  readonly regressions: readonly RegressionResult[];
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** Text inside a script element must not close it. */
const inScript = (s: string): string => s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
/** JSON inside a script element: no "<" at all, so nothing can end the element early. */
const jsonInScript = (x: unknown): string => JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const n = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

const STYLE = `
:root { --fg: #1f2328; --muted: #59636e; --line: #d8dee4; --panel: #f6f8fa; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1480px; margin: 0 auto; padding: 22px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 0 0 4px; }
.sub, .muted { color: var(--muted); }
.chips { display: flex; flex-wrap: wrap; gap: 8px; margin: 14px 0 6px; }
.chip { border: 1px solid; border-radius: 999px; padding: 2px 11px; font-size: 12.5px; font-weight: 600; }
.chip.ok { color: var(--ok); border-color: #9bd8ab; background: #eefbf1; }
.chip.bad { color: var(--bad); border-color: #f3b1b6; background: #fff0f1; }
.chip.warn { color: var(--warn); border-color: #e9cf7e; background: #fff8e1; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px; margin: 14px 0 6px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 9px 12px; }
.card .k { color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 19px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .d { color: var(--muted); font-size: 12px; }
table.data { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 4px 0 8px; }
table.data th, table.data td { padding: 4px 11px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
table.data th { font-size: 12px; color: var(--muted); font-weight: 600; background: var(--panel); }
table.data .l { text-align: left; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.worse { color: var(--bad); font-weight: 600; } .better { color: var(--ok); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(600px, 1fr)); gap: 14px; }
.chart { border: 1px solid var(--line); border-radius: 8px; padding: 10px 10px 2px; min-width: 0; }
.chart .plot { width: 100%; }
.u-legend { font-size: 12px; text-align: left; margin-top: 2px; }
.u-legend .u-marker { width: 14px; height: 3px; }
.u-legend th { font-weight: 500; }
.u-legend td { font-variant-numeric: tabular-nums; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px; overflow-x: auto; font-size: 12px; line-height: 1.35; }
details > summary { cursor: pointer; color: var(--muted); margin: 8px 0; }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.settings dt { color: var(--muted); } dl.settings dd { margin: 0; }
.notes li { color: var(--warn); }
`;

function page(title: string, body: string, data: unknown, assets: HtmlAssets): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${inScript(assets.uplotCss)}</style>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
<script type="application/json" id="report-data">${jsonInScript(data)}</script>
<script>${inScript(assets.uplotJs)}</script>
<script>${inScript(assets.clientJs)}</script>
</body>
</html>
`;
}

function chartsHtml(charts: readonly ChartSpec[], group: ChartSpec['group']): string {
  const mine = charts.filter((c) => c.group === group);
  if (!mine.length) return '';
  return `<div class="charts">${mine.map((c) => `<section class="chart" id="chart-${esc(c.id)}"><h3>${esc(c.title)}</h3><div class="plot"></div></section>`).join('')}</div>`;
}

function card(k: string, v: string, d = ''): string {
  return `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div>${d ? `<div class="d">${esc(d)}</div>` : ''}</div>`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[], left = 2): string {
  const cell = (tag: string, x: string, i: number): string => `<${tag}${i < left ? ' class="l"' : ''}>${x}</${tag}>`;
  return `<table class="data"><thead><tr>${header.map((h, i) => cell('th', esc(h), i)).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((x, i) => cell('td', x, i)).join('')}</tr>`).join('')}</tbody></table>`;
}

function verdictChips(s: RunSummary, results: readonly ThresholdResult[]): string {
  const chips: string[] = [];
  if (s.interrupted) chips.push('<span class="chip warn">INTERRUPTED: partial results</span>');
  if (s.incomplete !== null) chips.push(`<span class="chip bad">INCOMPLETE: ${esc(s.incomplete)}</span>`);
  if (!results.length) chips.push('<span class="chip warn">no thresholds given</span>');
  for (const t of results) chips.push(`<span class="chip ${t.ok ? 'ok' : 'bad'}">${t.ok ? 'ok' : 'FAILED'} ${esc(t.threshold)}: ${esc(t.actual)}</span>`);
  if (s.drill?.reconciliation) chips.push(`<span class="chip ${s.drill.reconciliation.ok ? 'ok' : 'bad'}">books ${s.drill.reconciliation.ok ? 'balance' : 'do NOT balance'}</span>`);
  return `<div class="chips">${chips.join('')}</div>`;
}

function keyFigures(s: RunSummary): string {
  const cards: string[] = [];
  cards.push(card('achieved rate', `${n(s.achieved.rate, 1)}/s`, achievedLine(s).replace(/^achieved [^ ]+ /, '')));
  cards.push(card('statements', `${s.totals.ok} ok`, `${s.totals.errors} failed (${n(s.totals.errorRatePct)}%), ${s.totals.skipped} skipped`));
  const worst = s.operations.filter((o) => o.latency).sort((a, b) => b.latency!.p99 - a.latency!.p99)[0];
  if (worst?.latency) cards.push(card('worst p99', `${n(worst.latency.p99)} ms`, `${worst.op}/${worst.target}; p50 ${n(worst.latency.p50)} ms`));
  if (s.staleness) cards.push(card('staleness p50 / p99', s.staleness.ms ? `${n(s.staleness.ms.p50)} / ${n(s.staleness.ms.p99)} ms` : 'none seen',
    `${s.staleness.seen} markers; max ${s.staleness.ms ? `${n(s.staleness.ms.max)} ms` : '-'}${s.staleness.unseen ? `; ${s.staleness.unseen} not seen` : ''}`));
  if (s.replicaLag) cards.push(card('replica lag at the end', `${s.replicaLag.ms !== null ? `${n(s.replicaLag.ms, 1)} ms` : `${s.replicaLag.bytes} bytes`}`, `${s.replicaLag.bytes} bytes behind`));
  const o = s.drill?.outage;
  if (o) {
    const down = (ms: number | null): string => (ms === null ? 'not over' : `${n(ms / 1000, 2)} s`);
    cards.push(card(`${s.drill!.kind}: writes down`, down(o.writes.downtimeMs), `reads down ${down(o.reads.downtimeMs)}`));
  }
  return `<div class="cards">${cards.join('')}</div>`;
}

function operationsTable(s: RunSummary, colors: ReadonlyMap<string, string>): string {
  const rows = s.operations.map((o) => {
    const l = o.latency;
    const c = colors.get(`${o.op}/${o.target}`);
    return [
      `${c ? `<span class="swatch" style="background:${c}"></span>` : ''}${esc(o.op)}`, esc(o.target), String(o.ok), n(o.throughput, 1),
      l ? n(l.avg) : '-', l?.stddev != null ? n(l.stddev) : '-', l ? n(l.p50) : '-', l ? n(l.p90) : '-', l ? n(l.p99) : '-', l ? n(l.max) : '-',
      String(o.errors), String(o.skipped),
      esc([o.answeredBy.primary ? `primary ${o.answeredBy.primary}` : '', o.answeredBy.standby ? `standby ${o.answeredBy.standby}` : ''].filter(Boolean).join(', ') || '-'),
    ];
  });
  if (!rows.length) return '<p>No statements were measured for this run.</p>';
  return table(['operation', 'target', 'ok', 'tps', 'avg ms', 'stddev', 'p50', 'p90', 'p99', 'max', 'errors', 'skipped', 'answered by'], rows);
}

function errorsTable(s: RunSummary): string {
  const by = new Map<ErrorClass, number>();
  for (const o of s.operations) for (const [c, k] of Object.entries(o.errorsByClass) as Array<[ErrorClass, number]>) by.set(c, (by.get(c) ?? 0) + k);
  if (!by.size) return '';
  return `<h3>Failed statements by SQLSTATE class</h3>${table(['class', 'meaning', 'statements'], [...by].sort().map(([c, k]) => [esc(c), esc(ERROR_CLASSES[c]), String(k)]))}`;
}

function databaseTable(s: RunSummary): string {
  const d = s.database;
  if (!d) return '';
  const rows = databaseRows(d).map((row) => row.map(esc));
  const { from, writer } = databaseFacts(d);
  return `<p class="muted">${esc(from)}, every ${d.stepSeconds} s${writer ? `, ${esc(writer)}` : ''}.</p>`
    + (rows.length ? table(['server', 'metric', 'mean', 'peak'], rows) : '<p>No samples.</p>');
}

function drillBlock(s: RunSummary): string {
  const d = s.drill;
  if (!d) return '';
  const lines: string[] = [];
  if (d.event) lines.push(`${d.kind} drill: started ${d.event.startedAt ? new Date(d.event.startedAt).toISOString() : '-'}, over after ${n((d.event.completedAt - d.event.startedAt) / 1000, 1)} s${d.event.from && d.event.to ? ` (writer ${d.event.from} -> ${d.event.to})` : ''}; shaded on every chart`);
  if (d.outage) lines.push(...formatOutage(d.outage).map((l) => l.trim()));
  if (d.reconciliation) lines.push(...formatReconciliation(d.reconciliation));
  return `<h2>Drill</h2><pre>${esc(lines.join('\n'))}</pre>`;
}

function settingsList(r: RunRecord): string {
  const f = r.facts;
  const st = f.settings;
  const items: Array<[string, string]> = [
    ['run id', r.runId],
    ['measured by', f.source === 'local' ? 'the local engine' : `CloudWatch${r.cloud ? ` (${r.cloud.region || 'default region'}, namespace ${r.cloud.namespace})` : ''}`],
    ['workload', st.workload],
    ['mode', st.mode],
    ['mix', st.mix.map((m) => `${m.op}=${m.weight}`).join(', ') || '-'],
    ['rate', `${st.rate}/s`],
    ['duration', formatDuration(st.durationMs)],
    ['ramp', st.rampMs ? formatDuration(st.rampMs) : 'none'],
    ['thresholds', st.thresholds.join('  ') || 'none'],
    ['plan', f.plan.description],
    ['messages', `${f.plan.messages} planned, ${f.messagesSent} sent${r.summary.messages.deadLettered !== null ? `, ${r.summary.messages.deadLettered} dead-lettered` : ''}`],
    ['load started', new Date(f.loadStartAt).toISOString()],
  ];
  if (f.send) items.push(['sending', `${f.send.calls} batch calls, ${f.send.retries} retries, ${f.send.throttled} throttled, ${f.send.lost} lost, at most ${n(f.send.maxLateMs, 0)} ms behind`]);
  const notes = f.notes.length ? `<ul class="notes">${f.notes.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '';
  return `<dl class="settings">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>${notes}`;
}

/** Colours of the operations, as the charts draw them. */
function operationColors(charts: readonly ChartSpec[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of charts.find((c) => c.id === 'latency')?.tables.flatMap((t) => t.series) ?? []) {
    const m = /^(?:[AB] )?(\S+) p\d+$/.exec(s.label);
    if (m && !out.has(m[1]!)) out.set(m[1]!, s.color);
  }
  return out;
}

/** The HTML report of one run. */
export function renderRunHtml(p: RunPage, assets: HtmlAssets = loadAssets()): string {
  const s = p.record.summary;
  const data = reportData([p.record]);
  const body = `
<header>
  <h1>Load test ${esc(s.runId)}</h1>
  <div class="sub">${esc(`${s.workload} workload, ${s.mode} mode, mix ${s.mix}; ${s.source === 'local' ? 'local engine' : 'AWS (CloudWatch)'}; load ${n(s.durationMs / 1000, 1)} s from ${s.startedAt}`)}</div>
</header>
${verdictChips(s, p.thresholds)}
${keyFigures(s)}
<h2>Summary</h2>
${operationsTable(s, operationColors(data.charts))}
${errorsTable(s)}
${drillBlock(s)}
<h2>The load, second by second</h2>
${chartsHtml(data.charts, 'load')}
${s.database ? `<h2>The database beside the load</h2>${databaseTable(s)}${chartsHtml(data.charts, 'database')}` : ''}
<details><summary>The text summary, as the run printed it</summary><pre>${esc(formatSummary(s, p.thresholds))}</pre></details>
<h2>Settings</h2>
${settingsList(p.record)}
`;
  return page(`Load test ${s.runId}`, body, data, assets);
}

/** The HTML report of two runs: the comparison, and both runs on the same charts (aligned by load start). */
export function renderCompareHtml(p: ComparePage, assets: HtmlAssets = loadAssets()): string {
  const { comparison: c } = p;
  const data = reportData([p.a, p.b]);
  const chips = p.regressions.length
    ? p.regressions.map((r) => `<span class="chip ${r.ok ? 'ok' : 'bad'}">${r.ok ? 'ok' : 'FAILED'} ${esc(r.limit)}: ${esc(r.actual)}</span>`).join('')
    : '<span class="chip warn">no --max-regression given</span>';
  const rows = c.rows.map((r) => {
    const worse = r.change !== null && (r.metric === 'tps' || r.metric === 'rate' ? r.change < 0 : r.change > 0);
    const fmt = (x: number | null): string => (x === null ? '-' : r.unit === '' ? String(Math.round(x)) : n(x, r.unit === '/s' ? 1 : 2));
    return [esc(r.op), esc(r.target), esc(`${r.metric}${r.unit ? ` (${r.unit})` : ''}`), fmt(r.a), fmt(r.b), `<span class="${r.change === null || r.change === 0 ? '' : worse ? 'worse' : 'better'}">${esc(changeText(r))}</span>`];
  });
  const body = `
<header>
  <h1>Load test comparison: A ${esc(c.a.runId)}, B ${esc(c.b.runId)}</h1>
  <div class="sub">A: ${esc(c.a.description)}</div>
  <div class="sub">B: ${esc(c.b.description)}</div>
</header>
<div class="chips">${chips}</div>
<h2>B against A</h2>
${table(['operation', 'target', 'metric', 'A', 'B', 'B vs A'], rows, 3)}
${c.onlyInA.length ? `<p class="muted">only in A: ${esc(c.onlyInA.join(', '))}</p>` : ''}${c.onlyInB.length ? `<p class="muted">only in B: ${esc(c.onlyInB.join(', '))}</p>` : ''}
<h2>Both runs, aligned by the start of their load (A solid, B dashed)</h2>
${chartsHtml(data.charts, 'load')}
${data.charts.some((x) => x.group === 'database') ? `<h2>The database beside the load</h2>${chartsHtml(data.charts, 'database')}` : ''}
<h2>Settings</h2>
<h3>A</h3>${settingsList(p.a)}
<h3>B</h3>${settingsList(p.b)}
`;
  return page(`Load test comparison ${c.a.runId} / ${c.b.runId}`, body, data, assets);
}
