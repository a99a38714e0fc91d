import { LIMITS } from './limits';
import { NAME_PATTERN, type Target, type WorkloadName } from '../workloads/catalog';

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

/**
 * How a message's scripts run, as pgbench's options would set them. The scripts themselves are
 * never in a message: it names them (op) with their content hash, and the worker runs its own.
 */
export interface ScriptOptions {
  /** `-D name=value`: variables every transaction starts with (they override the built-ins). */
  readonly vars?: Readonly<Record<string, string>>;
  /** `:client_id`: this worker's number within the run. Defaults to 0. */
  readonly clientId?: number;
  /**
   * The run's random seed (pgbench --random-seed), an unsigned 64-bit integer in decimal:
   * `:random_seed`, and the source of `:default_seed` and of this message's random draws
   * (handlers/workloads/script/seeds.ts). A fresh one per message when absent.
   */
  readonly randomSeed?: string;
}

/** Run `count` transactions of one script now, one after the other, on one target. */
export interface StatementsMessage extends MessageBase, ScriptOptions {
  readonly kind: 'statements';
  /** The script's name (its file name without `.sql`). */
  readonly op: string;
  /** The script's content hash; a worker running another version refuses the message. */
  readonly hash: string;
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

/** A mix entry as a slice message carries it: with the script's content hash. */
export interface SliceMixEntry extends MixEntry {
  readonly hash: string;
}

/**
 * Open-loop load: from `startAt`, for `durationMs`, start statements of `mix` at `rate` per second
 * on a fixed schedule, each operation on its own endpoint. With `startRate` and `rampMs`, the rate
 * climbs linearly from `startRate` to `rate` over the slice's first `rampMs` (part of a ramp).
 */
export interface SliceMessage extends MessageBase, ScriptOptions {
  readonly kind: 'slice';
  readonly mix: readonly SliceMixEntry[];
  readonly rate: number;
  readonly durationMs: number;
  /** Statements per second at `startAt`, from 0 up to `rate`; given with `rampMs`. */
  readonly startRate?: number;
  /** How long the climb from `startRate` to `rate` lasts, 1 ms up to `durationMs`; given with `startRate`. */
  readonly rampMs?: number;
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
  /** Drop and recreate the workload's tables even when they are already there (tpcb only). */
  readonly reset?: boolean;
  /** The content hash of the workload's init.sql the sender planned for; checked when given. */
  readonly hash?: string;
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

/** A ramp's starting rate: from 0 up to the slice's `rate`. */
function rateFrom(o: Obj, rate: number): number {
  const x = o.startRate;
  if (typeof x !== 'number' || !Number.isFinite(x)) fail(`"startRate" must be a number, got ${describe(x)}`);
  if (x < 0 || x > rate) fail(`"startRate" must be between 0 and "rate" (${rate}), got ${x}`);
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
  if (typeof w !== 'string' || !NAME_PATTERN.test(w)) fail(`"workload" must be a workload name (lowercase letters, digits, "-", "_"), got ${describe(w)}`);
  return w;
}

function opOf(op: unknown, where: string): string {
  if (typeof op !== 'string' || !NAME_PATTERN.test(op)) fail(`${where} must be a script name (lowercase letters, digits, "-", "_"), got ${describe(op)}`);
  return op;
}

function hashOf(h: unknown, where: string): string {
  if (typeof h !== 'string' || !LIMITS.hashPattern.test(h)) fail(`${where} must be a script's content hash (16 hex digits), got ${describe(h)}`);
  return h;
}

/** The ScriptOptions fields of a statements or slice message. */
function scriptOptionsOf(o: Obj): ScriptOptions {
  const out: { vars?: Record<string, string>; clientId?: number; randomSeed?: string } = {};
  if (o.vars !== undefined) {
    const v = o.vars;
    if (!isObj(v)) fail(`"vars" must be an object of name: "value" strings, got ${describe(v)}`);
    const names = Object.keys(v);
    if (names.length > LIMITS.maxVariables) fail(`"vars" has ${names.length} variables; at most ${LIMITS.maxVariables}`);
    const vars: Record<string, string> = {};
    for (const name of names) {
      if (!LIMITS.variableNamePattern.test(name)) fail(`"vars": "${name.slice(0, 40)}" is not a variable name (letters, digits, _; not starting with a digit)`);
      const value = v[name];
      if (typeof value !== 'string') fail(`"vars.${name}" must be a string, got ${describe(value)}`);
      if (value.length > LIMITS.maxVariableLength) fail(`"vars.${name}" is ${value.length} characters; at most ${LIMITS.maxVariableLength}`);
      if (value.includes('\u0000')) fail(`"vars.${name}" contains a NUL character`);
      vars[name] = value;
    }
    out.vars = vars;
  }
  if (o.clientId !== undefined) out.clientId = int(o, 'clientId', 0, LIMITS.maxClientId);
  if (o.randomSeed !== undefined) {
    const seed = o.randomSeed;
    if (typeof seed !== 'string' || !LIMITS.seedPattern.test(seed) || BigInt(seed) >= 1n << 64n) {
      fail(`"randomSeed" must be an unsigned 64-bit integer in decimal, as a string, got ${describe(seed)}`);
    }
    out.randomSeed = seed;
  }
  return out;
}

const SCRIPT_OPTION_KEYS = ['vars', 'clientId', 'randomSeed'] as const;

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
      onlyKeys(raw, [...BASE_KEYS, ...SCRIPT_OPTION_KEYS, 'op', 'hash', 'count', 'target', 'hosts'], 'statements message');
      const op = opOf(raw.op, '"op"');
      const hash = hashOf(raw.hash, '"hash"');
      const count = int(raw, 'count', 1, LIMITS.maxCount);
      const target = raw.target;
      if (target !== undefined && target !== 'reader' && target !== 'writer') {
        fail(`"target" must be "reader" or "writer", got ${describe(target)}`);
      }
      const hosts = hostsOf(raw);
      return { ...base, kind: 'statements', op, hash, count, ...(target ? { target } : {}), ...(hosts ? { hosts } : {}), ...scriptOptionsOf(raw) };
    }
    case 'slice': {
      onlyKeys(raw, [...BASE_KEYS, ...SCRIPT_OPTION_KEYS, 'mix', 'rate', 'durationMs', 'startRate', 'rampMs', 'startAt', 'lateLimitMs', 'hosts'], 'slice message');
      const mixRaw = raw.mix;
      if (!Array.isArray(mixRaw) || mixRaw.length === 0 || mixRaw.length > LIMITS.maxMixEntries) {
        fail(`"mix" must be a list of 1-${LIMITS.maxMixEntries} {op, weight, hash} entries`);
      }
      const mix = mixRaw.map((e: unknown, i: number): SliceMixEntry => {
        if (!isObj(e)) fail(`"mix[${i}]" must be an object like {"op":"select","weight":80,"hash":"0123456789abcdef"}`);
        onlyKeys(e, ['op', 'weight', 'hash'], `"mix[${i}]"`);
        return { op: opOf(e.op, `"mix[${i}].op"`), weight: num(e, 'weight', 0, 1_000_000), hash: hashOf(e.hash, `"mix[${i}].hash"`) };
      });
      if (new Set(mix.map((m) => m.op)).size !== mix.length) fail('"mix" names a script twice');
      const rate = num(raw, 'rate', 0, LIMITS.maxRate);
      const durationMs = int(raw, 'durationMs', 1, LIMITS.maxDurationMs);
      if ((raw.startRate === undefined) !== (raw.rampMs === undefined)) fail('"startRate" and "rampMs" go together: a ramp needs both');
      const ramp = raw.rampMs === undefined ? undefined : { rampMs: int(raw, 'rampMs', 1, durationMs), startRate: rateFrom(raw, rate) };
      const startAt = int(raw, 'startAt', now - LIMITS.maxStartLateMs, now + LIMITS.maxStartLeadMs);
      const lateLimitMs = raw.lateLimitMs === undefined ? undefined : int(raw, 'lateLimitMs', 1, LIMITS.maxLateLimitMs);
      const hosts = hostsOf(raw);
      return {
        ...base, kind: 'slice', mix, rate, durationMs, ...(ramp ?? {}), startAt,
        ...(lateLimitMs !== undefined ? { lateLimitMs } : {}),
        ...(hosts ? { hosts } : {}),
        ...scriptOptionsOf(raw),
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
      onlyKeys(raw, [...BASE_KEYS, 'scale', 'reset', 'hash'], 'init message');
      const scale = raw.scale === undefined ? undefined : int(raw, 'scale', 1, LIMITS.maxScale);
      if (raw.reset !== undefined && typeof raw.reset !== 'boolean') fail(`"reset" must be true or false, got ${describe(raw.reset)}`);
      const hash = raw.hash === undefined ? undefined : hashOf(raw.hash, '"hash"');
      return { ...base, kind: 'init', ...(scale !== undefined ? { scale } : {}), ...(raw.reset ? { reset: true } : {}), ...(hash ? { hash } : {}) };
    }
  }
}
