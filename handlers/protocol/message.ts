import { LIMITS } from './limits';
import { CATALOG, isWorkloadName, opInfo, type Target, type WorkloadName, WORKLOAD_NAMES } from '../workloads/catalog';

export const PROTOCOL_VERSION = 1;

/** Fields every message carries. */
export interface MessageBase {
  readonly v: typeof PROTOCOL_VERSION;
  /** The run this message belongs to; becomes the RunId metric dimension. */
  readonly runId: string;
  /** Position of this message in its run (0-based), so duplicates and gaps can be counted. */
  readonly seq: number;
  /** Epoch ms at which the trigger sent the message; queue dwell is measured from it. */
  readonly sentAt: number;
  readonly workload: WorkloadName;
}

/**
 * Explicit hosts for the reader and/or writer. Each must be on the worker's allowlist: a message
 * must never make the worker send credentials to a host of the sender's choosing.
 */
export interface HostOverrides {
  readonly reader?: string;
  readonly writer?: string;
}

/** Run `count` statements of one operation now, one after the other, on one target. */
export interface StatementsMessage extends MessageBase {
  readonly kind: 'statements';
  readonly op: string;
  readonly count: number;
  /** Where to run it; defaults to the operation's own endpoint (reads: reader, writes: writer). */
  readonly target?: Target;
  readonly hosts?: HostOverrides;
}

export interface MixEntry {
  readonly op: string;
  /** Relative weight; the weights of a mix need not sum to anything in particular. */
  readonly weight: number;
}

/**
 * Open-loop load: from `startAt`, for `durationMs`, start statements of `mix` at `rate` per second
 * on a fixed schedule, each operation on its own endpoint.
 */
export interface SliceMessage extends MessageBase {
  readonly kind: 'slice';
  readonly mix: readonly MixEntry[];
  readonly rate: number;
  readonly durationMs: number;
  /** Epoch ms of the first scheduled statement. */
  readonly startAt: number;
  /**
   * A statement that cannot start within this many ms of its scheduled time is skipped and counted
   * (pgbench -L). Defaults to 1000.
   */
  readonly lateLimitMs?: number;
  readonly hosts?: HostOverrides;
}

/** Create (idempotently) and load a workload's schema on the writer. */
export interface InitMessage extends MessageBase {
  readonly kind: 'init';
  /** tpcb scale factor (100,000 accounts each). Ignored by seed. Defaults to 1. */
  readonly scale?: number;
  /** Drop and recreate the workload's tables even when they are already there. */
  readonly reset?: boolean;
}

/**
 * The staleness probe: from `startAt`, for `durationMs`, every `intervalMs` write a marker row on
 * the writer and read it back on the reader until it is there (handlers/staleness-probe.ts).
 */
export interface ProbeMessage extends MessageBase {
  readonly kind: 'probe';
  readonly durationMs: number;
  /** Epoch ms of the first marker. */
  readonly startAt: number;
  /** ms between markers. Defaults to {@link PROBE_LIMITS}.defaultIntervalMs. */
  readonly intervalMs?: number;
  readonly hosts?: HostOverrides;
}

/** Bounds of a probe's marker interval: at most 20 markers a second, at least one a minute. */
export const PROBE_LIMITS = { minIntervalMs: 50, maxIntervalMs: 60_000, defaultIntervalMs: 200 } as const;

export type Message = StatementsMessage | SliceMessage | InitMessage | ProbeMessage;
export type MessageKind = Message['kind'];
export const MESSAGE_KINDS: readonly MessageKind[] = ['statements', 'slice', 'init', 'probe'];

export const DEFAULT_LATE_LIMIT_MS = 1000;

/** A message that failed validation. `message` is one line saying what is wrong. */
export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
}

function fail(what: string): never {
  throw new InvalidMessageError(what);
}

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function onlyKeys(o: Obj, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(`${where}: unknown field "${k}"`);
  }
}

function int(o: Obj, key: string, min: number, max: number): number {
  const x = o[key];
  if (typeof x !== 'number' || !Number.isInteger(x)) fail(`"${key}" must be an integer, got ${describe(x)}`);
  if (x < min || x > max) fail(`"${key}" must be between ${min} and ${max}, got ${x}`);
  return x;
}

function num(o: Obj, key: string, minExclusive: number, max: number): number {
  const x = o[key];
  if (typeof x !== 'number' || !Number.isFinite(x)) fail(`"${key}" must be a number, got ${describe(x)}`);
  if (x <= minExclusive || x > max) fail(`"${key}" must be > ${minExclusive} and <= ${max}, got ${x}`);
  return x;
}

function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (typeof x === 'string') return `"${x.length > 40 ? `${x.slice(0, 40)}...` : x}"`;
  if (x === null || typeof x !== 'object') return String(x);
  return Array.isArray(x) ? 'an array' : 'an object';
}

function workloadOf(o: Obj): WorkloadName {
  const w = o.workload;
  if (!isWorkloadName(w)) fail(`unknown workload ${describe(w)} (known: ${WORKLOAD_NAMES.join(', ')})`);
  return w;
}

function opOf(workload: WorkloadName, op: unknown): string {
  if (typeof op !== 'string' || opInfo(workload, op) === undefined) {
    fail(`unknown op ${describe(op)} for workload ${workload} (known: ${Object.keys(CATALOG[workload].ops).join(', ')})`);
  }
  return op;
}

function hostsOf(o: Obj): HostOverrides | undefined {
  const h = o.hosts;
  if (h === undefined) return undefined;
  if (!isObj(h)) fail(`"hosts" must be an object like {"reader":"host"}, got ${describe(h)}`);
  onlyKeys(h, ['reader', 'writer'], '"hosts"');
  const out: { reader?: string; writer?: string } = {};
  for (const t of ['reader', 'writer'] as const) {
    const v = h[t];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !LIMITS.hostPattern.test(v)) fail(`"hosts.${t}" is not a host name: ${describe(v)}`);
    out[t] = v.toLowerCase();
  }
  return out;
}

const BASE_KEYS = ['v', 'kind', 'runId', 'seq', 'sentAt', 'workload'] as const;

/**
 * Parse and validate a message body. Throws {@link InvalidMessageError} with a one-line reason;
 * nothing in a message that fails here ever reaches the database.
 *
 * `now` is only used to bound timestamps (a slice may not start an hour from now).
 */
export function parseMessage(body: string, now: number = Date.now()): Message {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > LIMITS.maxBodyBytes) fail(`body is ${bytes} bytes, over the ${LIMITS.maxBodyBytes}-byte limit`);
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (e) {
    fail(`body is not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  return validateMessage(raw, now);
}

/** Validate an already-parsed message; see {@link parseMessage}. */
export function validateMessage(raw: unknown, now: number = Date.now()): Message {
  if (!isObj(raw)) fail(`message must be a JSON object, got ${describe(raw)}`);
  if (raw.v !== PROTOCOL_VERSION) fail(`unsupported protocol version ${describe(raw.v)} (this worker speaks v${PROTOCOL_VERSION})`);
  const kind = raw.kind;
  if (typeof kind !== 'string' || !(MESSAGE_KINDS as readonly string[]).includes(kind)) {
    fail(`unknown kind ${describe(kind)} (known: ${MESSAGE_KINDS.join(', ')})`);
  }
  const runId = raw.runId;
  if (typeof runId !== 'string' || !LIMITS.runIdPattern.test(runId)) {
    fail(`"runId" must be 1-64 letters, digits, ".", "_" or "-", got ${describe(runId)}`);
  }
  const seq = int(raw, 'seq', 0, Number.MAX_SAFE_INTEGER);
  const sentAt = int(raw, 'sentAt', 0, now + 5 * 60_000);
  const workload = workloadOf(raw);
  const base = { v: PROTOCOL_VERSION, runId, seq, sentAt, workload } as const;

  switch (kind as MessageKind) {
    case 'statements': {
      onlyKeys(raw, [...BASE_KEYS, 'op', 'count', 'target', 'hosts'], 'statements message');
      const op = opOf(workload, raw.op);
      const count = int(raw, 'count', 1, LIMITS.maxCount);
      const target = raw.target;
      if (target !== undefined && target !== 'reader' && target !== 'writer') {
        fail(`"target" must be "reader" or "writer", got ${describe(target)}`);
      }
      const hosts = hostsOf(raw);
      return { ...base, kind: 'statements', op, count, ...(target ? { target } : {}), ...(hosts ? { hosts } : {}) };
    }
    case 'slice': {
      onlyKeys(raw, [...BASE_KEYS, 'mix', 'rate', 'durationMs', 'startAt', 'lateLimitMs', 'hosts'], 'slice message');
      const mixRaw = raw.mix;
      if (!Array.isArray(mixRaw) || mixRaw.length === 0 || mixRaw.length > LIMITS.maxMixEntries) {
        fail(`"mix" must be a list of 1-${LIMITS.maxMixEntries} {op, weight} entries`);
      }
      const mix = mixRaw.map((e: unknown, i: number): MixEntry => {
        if (!isObj(e)) fail(`"mix[${i}]" must be an object like {"op":"select","weight":80}`);
        onlyKeys(e, ['op', 'weight'], `"mix[${i}]"`);
        return { op: opOf(workload, e.op), weight: num(e, 'weight', 0, 1_000_000) };
      });
      const rate = num(raw, 'rate', 0, LIMITS.maxRate);
      const durationMs = int(raw, 'durationMs', 1, LIMITS.maxDurationMs);
      const startAt = int(raw, 'startAt', now - LIMITS.maxStartLateMs, now + LIMITS.maxStartLeadMs);
      const lateLimitMs = raw.lateLimitMs === undefined ? undefined : int(raw, 'lateLimitMs', 1, LIMITS.maxLateLimitMs);
      const hosts = hostsOf(raw);
      return {
        ...base, kind: 'slice', mix, rate, durationMs, startAt,
        ...(lateLimitMs !== undefined ? { lateLimitMs } : {}),
        ...(hosts ? { hosts } : {}),
      };
    }
    case 'probe': {
      onlyKeys(raw, [...BASE_KEYS, 'durationMs', 'startAt', 'intervalMs', 'hosts'], 'probe message');
      const durationMs = int(raw, 'durationMs', 1, LIMITS.maxDurationMs);
      const startAt = int(raw, 'startAt', now - LIMITS.maxStartLateMs, now + LIMITS.maxStartLeadMs);
      const intervalMs = raw.intervalMs === undefined ? undefined : int(raw, 'intervalMs', PROBE_LIMITS.minIntervalMs, PROBE_LIMITS.maxIntervalMs);
      const hosts = hostsOf(raw);
      return { ...base, kind: 'probe', durationMs, startAt, ...(intervalMs !== undefined ? { intervalMs } : {}), ...(hosts ? { hosts } : {}) };
    }
    case 'init': {
      onlyKeys(raw, [...BASE_KEYS, 'scale', 'reset'], 'init message');
      const scale = raw.scale === undefined ? undefined : int(raw, 'scale', 1, LIMITS.maxScale);
      if (raw.reset !== undefined && typeof raw.reset !== 'boolean') fail(`"reset" must be true or false, got ${describe(raw.reset)}`);
      return { ...base, kind: 'init', ...(scale !== undefined ? { scale } : {}), ...(raw.reset ? { reset: true } : {}) };
    }
  }
}
