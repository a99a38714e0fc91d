/**
 * Replica staleness as a client sees it: write a marker row on the writer, then read it back on the
 * reader until it is there. The time from the writer acknowledging the commit to the first read
 * that returns the row is what an application that writes and then reads from a replica waits for
 * its own write; replica lag as the servers report it (AuroraReplicaLag, pg_stat_replication) is
 * the servers' view of the same thing.
 *
 * Load, stated (defaults): on the writer one INSERT per marker (5 a second) and one DELETE of old
 * markers a second; on the reader one SELECT by primary key per poll. Polls start at once and then
 * wait a tenth of the time waited so far (at least 1 ms, at most 50 ms), so the measurement is
 * within about 10% (+1 ms) of the truth: a marker seen within 10 ms costs at most about 10 polls,
 * and one never seen (a failover) about 240 over the 10 s the probe waits. The probe holds one
 * connection to each endpoint; its table stays small (markers older than a minute are deleted).
 */
import type { Endpoint } from './config';
import { describeError } from './db/errors';
import type { Lease } from './db/pools';
import type { Clock } from './clock';
import { recordMarkerLost, recordStaleness } from './metrics/collector';
import type { StalenessSeries } from './metrics/types';
import { PROBE_LIMITS, type ProbeMessage } from './protocol/message';

/** The probe's own table, created by the probe itself (idempotently) on the writer. */
export const PROBE_TABLE = 'aurora_load_test_staleness';

const PROBE_DEFAULTS = {
  /** A marker not seen on the reader this long after its commit is counted as unseen. */
  giveUpMs: 10_000,
  /** Markers older than this are deleted, so the table holds about a minute of markers. */
  keepMs: 60_000,
  /** How often old markers are deleted. */
  pruneEveryMs: 1_000,
  /** Polls wait this share of the time waited so far... */
  pollShare: 0.1,
  /** ...and no less and no more than these, ms. */
  pollMinMs: 1,
  pollMaxMs: 50,
} as const;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${PROBE_TABLE} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL,
  written_at timestamptz NOT NULL DEFAULT clock_timestamp()
)`;
const CREATE_INDEX = `CREATE INDEX IF NOT EXISTS ${PROBE_TABLE}_written_at ON ${PROBE_TABLE} (written_at)`;
const INSERT = `INSERT INTO ${PROBE_TABLE} (run_id) VALUES ($1) RETURNING id`;
const SELECT = `SELECT 1 FROM ${PROBE_TABLE} WHERE id = $1`;
const PRUNE = `DELETE FROM ${PROBE_TABLE} WHERE written_at < clock_timestamp() - make_interval(secs => $1)`;

/** What the probe needs from the worker. */
export interface ProbeEnv {
  /** Borrow a connection (the worker's pools). */
  acquire(endpoint: Endpoint): Promise<Lease>;
  readonly writer: Endpoint;
  readonly reader: Endpoint;
  /** Run `load` once per worker and writer endpoint (the worker's per-endpoint cache). */
  once(name: string, load: () => Promise<void>): Promise<void>;
  readonly clock: Clock;
  /** Epoch ms after which no marker is started (the invocation's deadline). */
  readonly deadline: number;
  /** True once the run is interrupted. */
  stopped(): boolean;
  readonly log: { warn(obj: object, msg: string): void };
}

/** Create the marker table; two probes creating it at once is fine. */
async function createTable(lease: Lease): Promise<void> {
  for (const sql of [CREATE_TABLE, CREATE_INDEX]) {
    try {
      await lease.client.query(sql);
    } catch (err) {
      // IF NOT EXISTS is not atomic: a concurrent creator makes ours fail on the catalog's unique index.
      const code = (err as { code?: string }).code;
      if (code !== '23505' && code !== '42P07') throw err;
    }
  }
}

/**
 * Run a probe message: markers every `intervalMs` from `startAt` for `durationMs`, one at a time
 * (a marker still being polled for delays the next; the schedule never bursts to catch up).
 * Never throws: a marker that cannot be written counts as failed, one not seen in time as unseen.
 */
export async function runStalenessProbe(msg: ProbeMessage, series: StalenessSeries, env: ProbeEnv): Promise<void> {
  const { clock } = env;
  const intervalMs = msg.intervalMs ?? PROBE_LIMITS.defaultIntervalMs;
  const endAt = Math.min(msg.startAt + msg.durationMs, env.deadline);
  let reader: Lease | undefined;
  let lastPrune = -Infinity;
  let warned = false;
  const warn = (what: string, err: unknown): void => {
    if (warned) return;
    warned = true;
    env.log.warn({ runId: msg.runId, error: describeError(err) }, `staleness probe: ${what}`);
  };
  try {
    for (let k = 0; ; k++) {
      k = Math.max(k, Math.ceil((clock.now() - msg.startAt) / intervalMs));
      const due = msg.startAt + k * intervalMs;
      if (due >= endAt) return;
      if (!(await sleepUntil(due, env))) return;

      // From the write until the marker is seen (or given up), the probe's answers must be handled
      // as they arrive: no slice's wait blocks the thread meanwhile (handlers/precise-wait.ts).
      const hold = clock.hold?.();
      try {
        await probeOne();
      } finally {
        hold?.();
      }
    }
  } finally {
    reader?.release();
  }

  /** One marker: written, then read back on the reader until seen or given up; old ones pruned now and then. */
  async function probeOne(): Promise<void> {
    // Write the marker.
    let id: string;
    let ackAt: number;
    let writer: Lease | undefined;
    try {
      writer = await env.acquire(env.writer);
      const w = writer;
      await env.once(PROBE_TABLE, () => createTable(w));
      id = String((await w.client.query<{ id: string }>(INSERT, [msg.runId])).rows[0]!.id);
      ackAt = clock.now();
      writer.release();
    } catch (err) {
      writer?.release(err);
      warn('a marker could not be written', err);
      recordMarkerLost(series, 'failed', clock.now());
      return;
    }

    // Read it back on the reader.
    let seen = false;
    for (;;) {
      try {
        reader ??= await env.acquire(env.reader);
        if ((await reader.client.query(SELECT, [id])).rowCount) {
          seen = true;
          break;
        }
      } catch (err) {
        // Not there yet (a fresh table not replayed, a recovery conflict) or the reader is gone.
        reader?.release(err);
        reader = undefined;
      }
      const waited = clock.now() - ackAt;
      if (waited >= PROBE_DEFAULTS.giveUpMs || env.stopped() || clock.now() >= env.deadline) break;
      await clock.sleep(Math.min(PROBE_DEFAULTS.pollMaxMs, Math.max(PROBE_DEFAULTS.pollMinMs, waited * PROBE_DEFAULTS.pollShare)));
    }
    const at = clock.now();
    if (seen) recordStaleness(series, at - ackAt, at);
    else if (at - ackAt >= PROBE_DEFAULTS.giveUpMs) recordMarkerLost(series, 'unseen', at);

    if (at - lastPrune >= PROBE_DEFAULTS.pruneEveryMs) {
      lastPrune = at;
      await prune(env).catch((err: unknown) => warn('old markers could not be deleted', err));
    }
  }
}

async function prune(env: ProbeEnv): Promise<void> {
  const lease = await env.acquire(env.writer);
  try {
    await lease.client.query(PRUNE, [PROBE_DEFAULTS.keepMs / 1000]);
    lease.release();
  } catch (err) {
    lease.release(err);
    throw err;
  }
}

/** Sleep until epoch ms `at`, waking to check for an interrupt; false when the probe should stop. */
async function sleepUntil(at: number, env: ProbeEnv): Promise<boolean> {
  for (let wait = at - env.clock.now(); wait > 0; wait = at - env.clock.now()) {
    if (env.stopped()) return false;
    await env.clock.sleep(Math.min(wait, 100));
  }
  return !env.stopped() && env.clock.now() < env.deadline;
}
