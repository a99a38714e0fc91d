/**
 * pgbenchRatio: the worker's throughput over pgbench's on the same tpcb tables, the same number of
 * connections and the same local server, measured in many short rounds whose order changes every
 * round (see sideOrder), so that whatever else the machine is doing (other tenants' steal, a slow
 * disk) hits all alike: the figure is the median of the rounds' ratios.
 *
 * pgbench: `-n -c C -j C -T t -M prepared -f workloads/tpcb/<op>.sql -s <scale>`, the very script
 * files the worker runs (the worker also uses named prepared statements; `-s` gives the custom
 * script the :scale the worker reads from the tables).
 * Worker: C concurrent invocations of the real handler, each one SQS record of a `statements`
 * message (count K, on the writer), started again as soon as it returns until t has passed: a
 * closed loop on C pooled connections, with everything the worker does per statement (pool
 * lease, timing, histograms, per-invocation metrics) included. Before every run, of either, the
 * tables get what pgbench does without -n: VACUUM branches and tellers, TRUNCATE history; then a
 * CHECKPOINT, so no run pays for the one before it.
 *
 * node-postgres's own limit, in the same rounds: a bare node-postgres loop of the same TPC-B
 * transaction (the seven statements of tpcb.sql as named prepared statements, in the same
 * messages as the worker's, through node-postgres's cheapest path, bench/lib/pg-submittable.ts;
 * its random draws done in plain JavaScript) on C clients, closed loop, with no worker around it:
 * no script interpreter, no pool, no timing, no metrics. The worker reads and writes the protocol
 * itself (handlers/db/wire.ts), so worker / bare above 1 is what that saves over node-postgres.
 */
import * as path from 'node:path';
import pg from 'pg';
import { executePrepared } from '../lib/pg-submittable';
import { PROJECT_WORKLOADS_DIR, projectCatalog } from '../../handlers/workloads/project';
import { currentScale } from '../../handlers/workloads/tpcb';
import type { LocalCluster } from '../../trigger/local/cluster';
import { canPin, withSplitCpus } from '../lib/affinity';
import { benchWorker, lambdaContext, sqsEventOf } from '../lib/bench-worker';
import { runPgbench } from '../lib/pgbench';
import { cpuWindow } from '../lib/proc';
import { bootstrap, pickedMedian, showInterval, type Interval } from '../lib/bootstrap';
import { makeRow, median, round, type Row } from '../lib/report';

export interface RatioOptions {
  readonly cluster: LocalCluster;
  readonly pgbench: string;
  readonly clients: number;
  readonly seconds: number;
  readonly rounds: number;
  /** Also run select-only (-S) and the pinned diagnostic (DIAGNOSTIC_ROUNDS rounds each). */
  readonly full: boolean;
  readonly log: (line: string) => void;
}

interface Side {
  readonly tps: number;
  readonly transactions: number;
  readonly cpuUsPerTx: number;
}

type RatioSide = 'pgbench' | 'worker' | 'bare';

/**
 * The elapsed time at which the loops' combined rate (each loop's messages over its own time)
 * gives their messages: total / sum(messages_i / ms_i). Equal to the common time when all end together.
 */
export function effectiveElapsedMs(loops: ReadonlyArray<{ messages: number; ms: number }>): number {
  const total = loops.reduce((a, l) => a + l.messages, 0);
  const rate = loops.reduce((a, l) => a + (l.ms > 0 ? l.messages / l.ms : 0), 0);
  return rate > 0 ? total / rate : Math.max(0, ...loops.map((l) => l.ms));
}

/**
 * Orders of three sides (indices) such that each goes first in two of every six rounds, and the
 * first two sides swap places between rounds 2k and 2k + 1: over any even number of rounds,
 * pgbench runs before the worker in exactly half of them.
 */
const ORDERS_OF_THREE = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [0, 2, 1], [2, 0, 1], [1, 0, 2]] as const;

/** The order of round `i`: two sides alternate; three follow {@link ORDERS_OF_THREE}. */
export function sideOrder<T>(sides: readonly T[], i: number): T[] {
  if (sides.length === 2) return i % 2 === 0 ? [sides[0]!, sides[1]!] : [sides[1]!, sides[0]!];
  if (sides.length !== 3) throw new Error(`sideOrder: 2 or 3 sides, not ${sides.length}`);
  return ORDERS_OF_THREE[i % ORDERS_OF_THREE.length]!.map((k) => sides[k]!);
}

interface Round {
  /** The sides in the order this round ran them. */
  readonly order: string;
  readonly pgbench: Side;
  readonly worker: Side;
  readonly ratio: number;
  /** tpcb only: the bare node-postgres loop, and its tps over pgbench's. */
  readonly bare?: Side;
  readonly bareRatio?: number;
  /** CPU taken by processes this benchmark did not start, % of the machine. */
  readonly othersCpuPct: number;
}

interface Series {
  readonly op: 'tpcb' | 'select-only';
  readonly pinned: boolean;
  readonly rounds: Round[];
  readonly ratio: number;
  /** 95% percentile-bootstrap interval of the median of the rounds' ratios (bench/lib/bootstrap.ts). */
  readonly interval: Interval | null;
  readonly bareRatio?: number;
  readonly bareCpuUsPerTx?: number;
  readonly pgbenchCpuUsPerTx: number;
  readonly workerCpuUsPerTx: number;
}

/** Rounds of each diagnostic series (select-only, pinned), of the main series' length. */
const DIAGNOSTIC_ROUNDS = 8;

/** Statements per message: about a tenth of a second of work per invocation. */
const COUNT = { tpcb: 50, 'select-only': 500 } as const;

export async function pgbenchRatio(o: RatioOptions): Promise<{ rows: Row[]; details: unknown; pgbenchTps: number }> {
  const { cluster } = o;
  const { worker, sink } = benchWorker(cluster, o.clients);
  const admin = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
  await admin.connect();
  const scale = await currentScale(admin);
  const scriptFile = (op: 'tpcb' | 'select-only'): string => path.join(PROJECT_WORKLOADS_DIR, 'tpcb', `${op}.sql`);
  const hashOf = (op: 'tpcb' | 'select-only'): string => projectCatalog().get('tpcb')!.scripts.get(op)!.hash;
  const prepare = async (): Promise<void> => {
    await admin.query('VACUUM pgbench_branches, pgbench_tellers');
    await admin.query('TRUNCATE pgbench_history');
    await admin.query('CHECKPOINT');
  };

  const runWorker = async (op: 'tpcb' | 'select-only', seconds: number): Promise<Side> => {
    sink.invocations.length = 0;
    let seq = 0;
    const body = (): string => JSON.stringify({
      v: 1, kind: 'statements', runId: 'bench-ratio', seq: seq++, sentAt: Date.now(), workload: 'tpcb', op, hash: hashOf(op), count: COUNT[op], target: 'writer',
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    // Each invocation finishes the message it is in when the time is up (up to a few hundred ms
    // later), so the last ones run with fewer connections busy: each counts at its own rate, up to
    // its own end, as pgbench's clients and the bare loop's stop within one transaction.
    const loops = await Promise.all(Array.from({ length: o.clients }, async () => {
      let messages = 0;
      while (performance.now() < end) {
        await worker.handle(sqsEventOf([body()]), lambdaContext);
        messages++;
      }
      return { messages, ms: performance.now() - t0 };
    }));
    const elapsed = effectiveElapsedMs(loops);
    const cpu = process.cpuUsage(cpu0);
    let ok = 0;
    let errors = 0;
    for (const inv of sink.invocations) {
      for (const s of inv.series) {
        for (const b of s.seconds.values()) {
          ok += b.latency.count;
          for (const n of b.errors.values()) errors += n;
        }
      }
    }
    sink.invocations.length = 0;
    if (errors > 0) throw new Error(`the worker had ${errors} failed ${op} statements during the ratio run`);
    return { tps: (ok * 1000) / elapsed, transactions: ok, cpuUsPerTx: (cpu.user + cpu.system) / ok };
  };

  const runBare = async (seconds: number): Promise<Side> => {
    const clients = await Promise.all(Array.from({ length: o.clients }, async () => {
      const c = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
      await c.connect();
      return c;
    }));
    const draw = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));
    let transactions = 0;
    try {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const end = t0 + seconds * 1000;
      await Promise.all(clients.map(async (c) => {
        while (performance.now() < end) {
          const aid = draw(1, 100_000 * scale);
          const bid = draw(1, scale);
          const tid = draw(1, 10 * scale);
          const delta = draw(-5000, 5000);
          for (const [i, [text, values]] of BARE_TPCB(aid, bid, tid, delta).entries()) await executePrepared(c, `bare${i}`, text, values);
          transactions++;
        }
      }));
      const elapsed = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return { tps: (transactions * 1000) / elapsed, transactions, cpuUsPerTx: (cpu.user + cpu.system) / transactions };
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  };

  const runOnce = async (op: 'tpcb' | 'select-only', seconds: number, pinned: boolean): Promise<Side> => {
    const r = await runPgbench({
      bin: o.pgbench, host: cluster.writer.host, port: cluster.writer.port, user: cluster.user, password: cluster.password,
      database: cluster.database, clients: o.clients, seconds, extra: ['-f', scriptFile(op), '-s', String(scale)],
      ...(pinned ? { cpus: '0' } : {}),
    });
    if (r.failed > 0) throw new Error(`pgbench had ${r.failed} failed transactions`);
    return { tps: r.tps, transactions: r.transactions, cpuUsPerTx: (r.cpuMs * 1000) / r.transactions };
  };

  const series = async (op: 'tpcb' | 'select-only', rounds: number, seconds: number, pinned: boolean): Promise<Series> => {
    const out: Round[] = [];
    // Warm the pool and the prepared statements; not measured.
    await runWorker(op, 0.2);
    // The driver's floor runs beside the TPC-B figure itself, unpinned.
    const sides: readonly RatioSide[] = op === 'tpcb' && !pinned ? ['pgbench', 'worker', 'bare'] : ['pgbench', 'worker'];
    for (let i = 0; i < rounds; i++) {
      const window = cpuWindow();
      // The order changes every round (see sideOrder), so a drift of the machine over a round
      // (steal from other tenants, a slow disk) favours no side.
      const order = sideOrder(sides, i);
      let p: Side | undefined;
      let w: Side | undefined;
      let bare: Side | undefined;
      for (const side of order) {
        await prepare();
        if (side === 'pgbench') p = await runOnce(op, seconds, pinned);
        else if (side === 'worker') w = await runWorker(op, seconds);
        else bare = await runBare(seconds);
      }
      const ratio = w!.tps / p!.tps;
      out.push({
        order: order.join(', '),
        pgbench: roundSide(p!), worker: roundSide(w!), ratio: round(ratio, 3),
        ...(bare ? { bare: roundSide(bare), bareRatio: round(bare.tps / p!.tps, 3) } : {}),
        othersCpuPct: round(window().othersPct, 1),
      });
      o.log(`  ${op}${pinned ? ' (pinned)' : ''} round ${i + 1}/${rounds} (${order[0]} first): pgbench ${p!.tps.toFixed(0)} tps, worker ${w!.tps.toFixed(0)} tps, ratio ${ratio.toFixed(2)}`
        + (bare ? `; bare node-postgres ${bare.tps.toFixed(0)} tps, ratio ${(bare.tps / p!.tps).toFixed(2)}; client CPU/tx worker ${w!.cpuUsPerTx.toFixed(0)} µs, bare ${bare.cpuUsPerTx.toFixed(0)} µs, pgbench ${p!.cpuUsPerTx.toFixed(0)} µs` : ''));
    }
    const bares = out.filter((r) => r.bareRatio !== undefined);
    const { ratio: interval } = medianInterval(out.map((r) => r.ratio), out.map((r) => r.order.indexOf('pgbench') < r.order.indexOf('worker')));
    o.log(`  ${op}${pinned ? ' (pinned)' : ''}: median of ${out.length} rounds ${median(out.map((r) => r.ratio)).toFixed(3)} (95% bootstrap interval ${showInterval(interval)})`);
    return {
      op, pinned, rounds: out,
      ratio: round(median(out.map((r) => r.ratio)), 3),
      interval: interval && { lo: round(interval.lo, 3), hi: round(interval.hi, 3) },
      ...(bares.length ? { bareRatio: round(median(bares.map((r) => r.bareRatio!)), 3), bareCpuUsPerTx: round(median(bares.map((r) => r.bare!.cpuUsPerTx)), 0) } : {}),
      pgbenchCpuUsPerTx: round(median(out.map((r) => r.pgbench.cpuUsPerTx)), 0),
      workerCpuUsPerTx: round(median(out.map((r) => r.worker.cpuUsPerTx)), 0),
    };
  };

  const all: Series[] = [];
  try {
    all.push(await series('tpcb', o.rounds, o.seconds, false));
    if (o.full) {
      all.push(await series('select-only', DIAGNOSTIC_ROUNDS, o.seconds, false));
      if (canPin()) {
        // The diagnostic: every PostgreSQL process on CPU 1, the client (pgbench, or this process
        // running the worker) on CPU 0, so the client's own CPU no longer comes out of the server's.
        await withSplitCpus(cluster.pids, async () => {
          all.push(await series('tpcb', DIAGNOSTIC_ROUNDS, o.seconds, true));
          all.push(await series('select-only', DIAGNOSTIC_ROUNDS, o.seconds, true));
        });
      }
    }
  } finally {
    await admin.end();
    await worker.close();
  }

  const main = all[0]!;
  const others = median(main.rounds.map((r) => r.othersCpuPct));
  const range = (xs: number[]): string => `rounds ${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
  const rows: Row[] = [
    makeRow('pgbenchRatio', main.ratio, '', { kind: 'atLeast', limit: 0.7 }, {
      note: `95% bootstrap ${showInterval(main.interval, 2)}; ${range(main.rounds.map((r) => r.ratio))}; tpcb, ${o.clients} connections, median of ${main.rounds.length} rounds of ${o.seconds} s per side, the order changing every round; client CPU/tx: worker ${main.workerCpuUsPerTx} µs, pgbench ${main.pgbenchCpuUsPerTx} µs`,
      othersCpuPct: others,
    }),
    makeRow('pgbenchRatio', main.bareRatio ?? null, '', undefined, {
      at: 'bare node-postgres',
      note: `node-postgres's limit, same rounds: ${range(main.rounds.map((r) => r.bareRatio ?? NaN))}; worker / bare ${round(main.ratio / (main.bareRatio ?? NaN), 2)}; client CPU/tx ${main.bareCpuUsPerTx} µs`,
      othersCpuPct: others,
    }),
  ];
  for (const s of all.slice(1)) {
    rows.push(makeRow('pgbenchRatio', s.ratio, '', undefined, {
      at: `${s.op}${s.pinned ? ', pinned' : ''}`,
      note: `diagnostic; 95% bootstrap ${showInterval(s.interval, 2)}; client CPU/tx: worker ${s.workerCpuUsPerTx} µs, pgbench ${s.pgbenchCpuUsPerTx} µs`,
      othersCpuPct: median(s.rounds.map((r) => r.othersCpuPct)),
    }));
  }
  return {
    rows,
    pgbenchTps: median(main.rounds.map((r) => r.pgbench.tps)),
    details: {
      spread: { median: main.ratio, min: Math.min(...main.rounds.map((r) => r.ratio)), max: Math.max(...main.rounds.map((r) => r.ratio)), interval: main.interval },
      clients: o.clients,
      seconds: o.seconds,
      bareMethod: `${o.clients} pg.Clients, each a closed loop of tpcb.sql's seven statements as named prepared statements in the worker's messages (Bind, Describe, Execute, Sync in one write) through node-postgres's cheapest path (bench/lib/pg-submittable.ts), random aid/bid/tid/delta drawn in JavaScript`,
      method: `pgbench -n -c ${o.clients} -j ${o.clients} -T ${o.seconds} -M prepared -f workloads/tpcb/<op>.sql -s ${scale} vs ${o.clients} concurrent handler invocations of statements messages (count ${COUNT.tpcb} tpcb / ${COUNT['select-only']} select-only) in a closed loop; short rounds, the order changing every round (each side first as often, pgbench before the worker in half of them), the worker counting each invocation up to its own end, VACUUM + TRUNCATE history + CHECKPOINT before each run; the figure is the median of the rounds' ratios, with its 95% percentile-bootstrap interval (2,000 resamples of the rounds, within those where pgbench ran before the worker and those where it ran after)`,
      pinnedMeans: 'all PostgreSQL processes on CPU 1, the client on CPU 0',
      series: all,
    },
  };
}

/**
 * How far the median of these round ratios moves across other draws of the same rounds: its 95%
 * bootstrap interval, resampling within the rounds where pgbench ran before the worker and those
 * where it ran after (so every resample keeps the design's balance).
 */
export function medianInterval(ratios: readonly number[], pgbenchBefore: readonly boolean[], resamples = 2000): { ratio: Interval | null } {
  return bootstrap(ratios.length, (picks) => ({ ratio: pickedMedian(ratios, picks) }), { resamples, strata: pgbenchBefore.map((b) => (b ? 0 : 1)) });
}

/** tpcb.sql's seven statements as a bare loop sends them: text and bind values, in order. */
function BARE_TPCB(aid: number, bid: number, tid: number, delta: number): Array<[string, string[]]> {
  return ([
    ['BEGIN', []],
    ['UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2', [delta, aid]],
    ['SELECT abalance FROM pgbench_accounts WHERE aid = $1', [aid]],
    ['UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2', [delta, tid]],
    ['UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2', [delta, bid]],
    ['INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)', [tid, bid, aid, delta]],
    ['END', []],
  ] as Array<[string, number[]]>).map(([text, values]) => [text, values.map(String)]);
}

function roundSide(s: Side): Side {
  return { tps: round(s.tps, 1), transactions: s.transactions, cpuUsPerTx: round(s.cpuUsPerTx, 0) };
}
