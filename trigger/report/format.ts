import { ERROR_CLASSES, type ErrorClass } from '../../handlers/contract';
import { formatOutage } from '../drills/outage';
import { formatReconciliation } from '../drills/reconcile';
import { DATABASE_METRIC_NAMES, DATABASE_METRICS, type DatabaseSummary } from './database';
import type { ThresholdResult } from './thresholds';
import type { OpSummary, RunSummary, StalenessSummary, Stats } from './summary';

function n(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '-';
  return x.toFixed(digits);
}

function signed(x: number, digits = 1): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells
    .map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
    .join('  ')
    .trimEnd();
  return [line(header), ...rows.map(line)];
}

function answered(o: OpSummary): string {
  const parts: string[] = [];
  if (o.answeredBy.primary) parts.push(`primary ${o.answeredBy.primary}`);
  if (o.answeredBy.standby) parts.push(`standby ${o.answeredBy.standby}`);
  return parts.join(', ') || '-';
}

function statsLine(s: Stats | null): string {
  if (!s) return 'none measured';
  return `avg ${n(s.avg)} ms, p50 ${n(s.p50)}, p90 ${n(s.p90)}, p99 ${n(s.p99)}, max ${n(s.max)} ms (${s.count})`;
}

/** The staleness probe in one line: the distribution of the markers seen, and those that were not. */
export function stalenessLine(st: StalenessSummary): string {
  const lost = [st.unseen ? `${st.unseen} not seen in time` : '', st.failed ? `${st.failed} not written` : ''].filter(Boolean).join(', ');
  const ms = st.ms ? `p50 ${n(st.ms.p50)} ms, p90 ${n(st.ms.p90)}, p99 ${n(st.ms.p99)}, max ${n(st.ms.max)} ms` : 'no marker seen';
  return `staleness (write on the writer, read it back on a reader): ${ms} (${st.seen} markers${lost ? `; ${lost}` : ''})`;
}

/**
 * The database's own metrics as table rows (server, metric, mean, peak): one per server (or
 * instance) and metric, then the worker function's; the text and the HTML report both show these.
 */
export function databaseRows(d: DatabaseSummary): string[][] {
  const rows: string[][] = [];
  for (const srv of d.servers) {
    // Local servers are named by their role already (writer:5432); AWS instances are not.
    const server = srv.name.startsWith(srv.role) ? srv.name : `${srv.name} (${srv.role})`;
    for (const m of DATABASE_METRIC_NAMES) {
      const mp = srv.metrics[m];
      if (!mp) continue;
      const info = DATABASE_METRICS[m];
      rows.push([server, `${info.label}${info.unit ? ` ${info.unit}` : ''}`, n(mp.mean), n(mp.peak)]);
    }
  }
  const w = d.worker;
  if (w?.concurrency) rows.push(['worker', 'concurrent executions', n(w.concurrency.mean), n(w.concurrency.peak)]);
  if (w?.throttles) rows.push(['worker', 'throttles (total, peak /step)', String(w.throttles.total), String(w.throttles.peak)]);
  return rows;
}

/** Where the database's figures come from, and which instance was the writer before and after a failover drill. */
export function databaseFacts(d: DatabaseSummary): { from: string; writer?: string } {
  const from = d.source === 'servers' ? 'sampled from the servers' : 'CloudWatch AWS/RDS and AWS/Lambda';
  return d.writer ? { from, writer: `writer: ${d.writer.before} before the failover drill, ${d.writer.after} after it` } : { from };
}

/** The database's own metrics: one row per server (or instance) and metric, mean and peak. */
export function databaseLines(d: DatabaseSummary): string[] {
  const rows = databaseRows(d);
  const { from, writer } = databaseFacts(d);
  const writerLine = writer ? [`  ${writer}`] : [];
  if (!rows.length) return [`database (${from}): no samples`, ...writerLine];
  return [`database (${from}, every ${d.stepSeconds} s):`, ...writerLine, ...table(['server', 'metric', 'mean', 'peak'], rows).map((l) => `  ${l}`)];
}

/** A rate as people write it: 200, 12.5, 0.33. */
function rate(x: number): string {
  return Number.isInteger(Math.round(x * 100) / 100) ? String(Math.round(x)) : String(Math.round(x * 100) / 100);
}

/** The achieved-vs-planned sentence, e.g. "achieved 199.6/s of 200/s, -0.2%". */
export function achievedLine(s: RunSummary): string {
  const planned = s.planned.averageRate;
  const ramp = Math.abs(planned - s.planned.rate) > 1e-6 ? ` planned (a ramp to ${rate(s.planned.rate)}/s)` : '';
  return `achieved ${n(s.achieved.rate, 1)}/s of ${rate(planned)}/s${ramp}, ${signed(s.achieved.rateErrorPct)}%`;
}

/**
 * The human summary, in pgbench's vocabulary with k6's percentiles: one row per operation and
 * target, then schedule lag, queue dwell, errors by class, who answered, the drill, and the
 * thresholds. handlers/README.md explains each line.
 */
export function formatSummary(s: RunSummary, thresholds: readonly ThresholdResult[] = []): string {
  const out: string[] = [];
  const secs = s.durationMs / 1000;
  out.push(`run ${s.runId}: ${s.workload} workload, ${s.mode} mode, mix ${s.mix}, ${s.source === 'local' ? 'local engine' : 'CloudWatch'}`);
  out.push(`load ${n(secs, 1)} s from ${s.startedAt}${s.interrupted ? ' (INTERRUPTED: partial results)' : ''}`);
  if (s.incomplete !== null) out.push(`INCOMPLETE: ${s.incomplete}`);
  out.push(`statements: ${s.achieved.statements} attempted (${s.totals.ok} ok, ${s.totals.errors} failed, ${n(s.totals.errorRatePct)}%), `
    + `${s.totals.skipped} skipped, ${Math.round(s.planned.statements)} planned`);
  out.push(achievedLine(s));
  out.push('');
  if (s.operations.length === 0) {
    out.push('no statements were measured for this run');
  } else {
    const rows = s.operations.map((o) => [
      o.op, o.target, String(o.ok), n(o.throughput, 1),
      o.latency ? n(o.latency.avg) : '-', o.latency?.stddev != null ? n(o.latency.stddev) : '-',
      o.latency ? n(o.latency.p50) : '-', o.latency ? n(o.latency.p90) : '-', o.latency ? n(o.latency.p99) : '-', o.latency ? n(o.latency.max) : '-',
      String(o.errors), String(o.skipped), answered(o),
    ]);
    out.push(...table(['operation', 'target', 'ok', 'tps', 'avg ms', 'stddev', 'p50', 'p90', 'p99', 'max', 'errors', 'skipped', 'answered by'], rows));
  }
  out.push('');
  const lagRows = s.operations.filter((o) => o.scheduleLag);
  if (lagRows.length) {
    out.push('schedule lag (actual start - scheduled start):');
    for (const o of lagRows) out.push(`  ${o.op}/${o.target}: ${statsLine(o.scheduleLag)}`);
  }
  const errorClasses = new Map<ErrorClass, number>();
  for (const o of s.operations) for (const [c, k] of Object.entries(o.errorsByClass) as Array<[ErrorClass, number]>) errorClasses.set(c, (errorClasses.get(c) ?? 0) + k);
  if (errorClasses.size) {
    out.push('errors by class:');
    for (const [c, k] of [...errorClasses].sort()) out.push(`  ${c} ${ERROR_CLASSES[c]}: ${k}`);
  }
  const reads = s.operations.filter((o) => o.target === 'reader');
  const standby = reads.reduce((x, o) => x + o.answeredBy.standby, 0);
  const readOk = reads.reduce((x, o) => x + o.ok, 0);
  const readAnswered = reads.reduce((x, o) => x + o.answeredBy.standby + o.answeredBy.primary, 0);
  if (readOk > 0 && readAnswered > 0) {
    const verdict = standby === readAnswered ? 'all on a standby' : standby === 0 ? 'NONE on a standby' : 'some on the primary';
    out.push(`reads answered by a standby (pg_is_in_recovery() on the answering server): ${standby} of ${readAnswered}, ${verdict}`);
  }
  out.push(`queue dwell (sent -> received): ${statsLine(s.messages.dwell)}`);
  // failed and invalid count receives: a message failing all its receives counts once per receive, and once dead-lettered.
  out.push(`messages: ${s.messages.sent} sent, ${s.messages.ok} ok, ${s.messages.failed} failed receives, ${s.messages.invalid} invalid receives`
    + `${s.messages.deadLettered !== null ? `, ${s.messages.deadLettered} dead-lettered` : ''}`);
  const dup = s.messages;
  if ((dup.duplicate ?? 0) > 0 || (dup.ranTwice ?? 0) > 0) {
    out.push(`duplicates: ${dup.ranTwice ?? 0} message(s) ran twice (a copy reached another environment), ${dup.duplicate ?? 0} copies not run again (their environment had run them)`);
  }
  if (s.send) {
    const x = s.send;
    out.push(`sending: ${x.calls} batch calls, ${x.retries} retries, ${x.throttled} throttled, ${x.failedEntries} failed entries resent, ${x.lost} lost`
      + `${x.possibleDuplicates ? `, ${x.possibleDuplicates} resent after a call whose outcome was unknown (possible duplicates)` : ''}; latest send ${n(x.maxLateMs, 0)} ms behind schedule`);
  }
  if (s.replicaLag !== undefined) {
    out.push(s.replicaLag
      ? `replica lag at the end: ${s.replicaLag.bytes} bytes${s.replicaLag.ms !== null ? `, ${n(s.replicaLag.ms, 1)} ms` : ''}`
      : 'replica lag: not available');
  }
  if (s.staleness) out.push(stalenessLine(s.staleness));
  if (s.database) out.push(...databaseLines(s.database));
  if (s.drill) {
    const d = s.drill;
    const e = d.event;
    if (e) {
      const moved = e.from && e.to ? ` (writer ${e.from} -> ${e.to})` : '';
      const over = d.kind === 'failover' ? 'new writer ready after' : d.kind === 'writer-silent' ? 'writer answering again after' : 'servers back after';
      const found = e.firstErrorAt !== undefined ? `; first failed statement ${n((e.firstErrorAt - e.startedAt) / 1000, 1)} s after it began` : '';
      out.push(`${d.kind} drill: started ${new Date(e.startedAt).toISOString()}, ${over} ${n((e.completedAt - e.startedAt) / 1000, 1)} s${moved}${found}`);
    } else {
      out.push(`${d.kind} drill${d.reconciliation ? '' : ': did not run (see the notes)'}`);
    }
    if (d.outage) out.push(...formatOutage(d.outage));
    if (d.reconciliation) out.push(...formatReconciliation(d.reconciliation).map((l) => `  ${l}`));
  }
  for (const note of s.notes) out.push(`note: ${note}`);
  if (thresholds.length) {
    out.push('thresholds:');
    for (const t of thresholds) out.push(`  ${t.ok ? 'ok    ' : 'FAILED'} ${t.threshold}: ${t.actual}`);
  }
  return out.join('\n');
}
