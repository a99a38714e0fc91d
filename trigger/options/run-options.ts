import { randomBytes } from 'node:crypto';
import type { HostOverrides, MixEntry } from '../../handlers/protocol/message';
import { STACK_OUTPUT } from '../../handlers/contract';
import { MAX_CONCURRENCY_RANGE } from '../../handlers/event-source';
import { LIMITS } from '../../handlers/protocol/limits';
import type { Catalog, OpKind, WorkloadName } from '../../handlers/workloads/catalog';
import { projectCatalog } from '../../handlers/workloads/project';
import { UsageError } from '../errors';
import { SLICE_DEFAULTS } from '../plan/slice-plan';
import { parseDuration } from './duration';
import { parseHost } from './host';
import { parseServerUrls, type ServerUrls } from './postgres-url';
import { checkVariables, newRandomSeed, parseDefines } from './defines';
import { DEFAULT_MIX, hashesOf, parseMix } from './mix';
import { parseThreshold, type Threshold } from './threshold';

/** The run command's options as commander hands them over: strings, booleans, lists. */
export interface RawRunOptions {
  reader?: string | boolean;
  writer?: string | boolean;
  workload?: string;
  mix?: string;
  rate?: string;
  duration?: string;
  ramp?: string;
  mode?: string;
  count?: string;
  workers?: string;
  workerRate?: string;
  concurrency?: string;
  queueUrl?: string;
  region?: string;
  stack?: string;
  namespace?: string;
  local?: boolean;
  writerUrl?: string;
  readerUrl?: string;
  demo?: boolean;
  maxConnections?: string;
  maxConcurrency?: string;
  /** `--no-scale-up` sets it false. */
  scaleUp?: boolean;
  dryRun?: boolean;
  threshold?: string[];
  json?: boolean;
  runId?: string;
  startLead?: string;
  lateLimit?: string;
  scale?: string;
  save?: boolean;
  failoverAt?: string;
  /** `-D name=value`, repeatable. */
  define?: string[];
  stalenessProbe?: boolean;
  html?: string;
}

export const RUN_DEFAULTS = {
  workload: 'seed' as WorkloadName,
  rate: { aws: 100, local: 200 },
  durationMs: { aws: 60_000, local: 20_000 },
  mode: 'slice' as const,
  count: 10,
  concurrency: 8,
  stack: 'LoadTest-Load',
  startLeadMs: { aws: 5_000, local: 2_000 },
} as const;

/** Everything a run needs, validated: the entry point reads flags once and passes this down. */
export interface RunSettings {
  readonly where: 'local' | 'aws';
  readonly demo: boolean;
  readonly runId: string;
  readonly workload: WorkloadName;
  readonly kinds: ReadonlySet<OpKind>;
  readonly mix: readonly MixEntry[];
  /** Content hash of each script in the mix, as this checkout's workloads/ has it. */
  readonly hashes: Readonly<Record<string, string>>;
  /** `-D` variables. */
  readonly vars: Readonly<Record<string, string>>;
  /** The run's random seed (pgbench --random-seed), generated per run. */
  readonly randomSeed: string;
  readonly hosts?: HostOverrides;
  readonly rate: number;
  readonly durationMs: number;
  readonly rampMs: number;
  readonly mode: 'statements' | 'slice';
  readonly count: number;
  readonly workers?: number;
  readonly maxWorkerRate: number;
  readonly concurrency: number;
  readonly startLeadMs: number;
  /** `--start-lead` was given: it is then honoured, or the plan refused, never lengthened. */
  readonly startLeadGiven: boolean;
  readonly lateLimitMs?: number;
  readonly maxConnections?: number;
  /** `--max-concurrency`: the event source's MaximumConcurrency (default: the stack's, or the stack default locally). */
  readonly maxConcurrency?: number;
  /** Model the event source's gradual scale-up (false with `--no-scale-up`). */
  readonly scaleUp: boolean;
  /** `--dry-run`: print the plan and what it needs of the fleet; send nothing, start nothing. */
  readonly dryRun: boolean;
  readonly thresholds: readonly Threshold[];
  readonly json: boolean;
  readonly save: boolean;
  readonly scale?: number;
  /** Failover drill: fail the database over this long after the load starts. */
  readonly failoverAtMs?: number;
  /** Run the staleness probe with the load (`--[no-]staleness-probe`; on when the mix's scripts read and write). */
  readonly stalenessProbe: boolean;
  /** `--html FILE`: also write the run's report as one self-contained HTML file. */
  readonly html?: string;
  readonly aws: { readonly queueUrl?: string; readonly region?: string; readonly stack: string; readonly namespace?: string };
  readonly local: { readonly servers?: ServerUrls };
}

function posNumber(text: string, flag: string, what = 'a number above 0'): number {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x) || x <= 0) throw new UsageError(`${flag} must be ${what}, got "${text}"`);
  return x;
}

export function posInt(text: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const x = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(x) || x <= 0) throw new UsageError(`${flag} must be a whole number above 0, got "${text}"`);
  if (x > max) throw new UsageError(`${flag} must be at most ${max}, got ${x}`);
  return x;
}

function formatDurationFlag(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A fresh run id: sortable by time, unique enough, safe as a CloudWatch dimension. */
export function generateRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `run-${stamp}-${randomBytes(2).toString('hex')}`;
}

export function parseRegion(text: string): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(text)) throw new UsageError(`--region "${text}" is not an AWS region, e.g. eu-west-1`);
  return text;
}

export function parseQueueUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`--queue-url "${text}" is not a URL: use the ${STACK_OUTPUT.queueUrl} output of the stack, e.g. https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-Queue`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new UsageError(`--queue-url must be an https:// URL, got "${text}"`);
  return text;
}

/** The region in an SQS queue URL (https://sqs.REGION.amazonaws.com/...), if it has one. */
export function regionOfQueueUrl(url: string): string | undefined {
  return /^https?:\/\/sqs[.-]([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com/.exec(url)?.[1];
}

/**
 * Validate the run command's flags into {@link RunSettings}. Every mistake is a
 * {@link UsageError}: one line that names the flag and says what to give instead.
 */
export function resolveRunOptions(raw: RawRunOptions, now: Date = new Date(), catalog: Catalog = projectCatalog()): RunSettings {
  const demo = raw.demo === true;
  const local = raw.local === true || demo;
  const where = local ? 'local' : 'aws';

  if (!local) {
    for (const [flag, given] of [['--writer-url', raw.writerUrl], ['--reader-url', raw.readerUrl]] as const) {
      if (given !== undefined) throw new UsageError(`${flag} is for local runs: add --local (or drop ${flag} and use --${flag.slice(2, -4)} HOST for a deployed worker)`);
    }
  } else {
    for (const [flag, given] of [['--queue-url', raw.queueUrl], ['--region', raw.region], ['--stack', raw.stack], ['--namespace', raw.namespace]] as const) {
      if (given !== undefined) throw new UsageError(`${flag} is for runs in AWS; drop it, or drop --local`);
    }
  }

  // --reader / --writer: bare means the deployed (or local) endpoint; neither means both.
  const readerGiven = raw.reader !== undefined && raw.reader !== false;
  const writerGiven = raw.writer !== undefined && raw.writer !== false;
  const kinds = new Set<OpKind>(!readerGiven && !writerGiven ? ['read', 'write'] : [...(readerGiven ? ['read' as const] : []), ...(writerGiven ? ['write' as const] : [])]);
  const hosts: { reader?: string; writer?: string } = {};
  for (const t of ['reader', 'writer'] as const) {
    const v = raw[t];
    if (typeof v !== 'string') continue;
    if (local) throw new UsageError(`--${t} ${v}: local runs use the embedded servers or --${t}-url URL, not a host name`);
    hosts[t] = parseHost(v, `--${t}`);
  }
  const servers = parseServerUrls(raw.writerUrl, raw.readerUrl);

  const workload = workloadOf(raw.workload ?? RUN_DEFAULTS.workload, catalog);
  const mix = parseMix(raw.mix ?? DEFAULT_MIX, workload, kinds, raw.mix !== undefined, catalog);
  const vars = parseDefines(raw.define ?? []);
  checkVariables(catalog, workload, mix.map((m) => m.op), vars);

  const rate = raw.rate !== undefined ? posNumber(raw.rate, '--rate', 'a rate above 0 (statements per second)') : (demo || local ? RUN_DEFAULTS.rate.local : RUN_DEFAULTS.rate.aws);
  const durationMs = raw.duration !== undefined ? parseDuration(raw.duration, '--duration') : RUN_DEFAULTS.durationMs[where];
  if (durationMs < 1000) throw new UsageError(`--duration must be at least 1s, got "${raw.duration}"`);
  if (durationMs > 24 * 3_600_000) throw new UsageError(`--duration must be at most 24h, got "${raw.duration}"`);
  const rampMs = raw.ramp !== undefined ? parseDuration(raw.ramp, '--ramp') : 0;
  if (rampMs > durationMs) throw new UsageError(`--ramp (${raw.ramp}) is longer than --duration; the ramp is part of the run`);

  const mode = raw.mode ?? RUN_DEFAULTS.mode;
  if (mode !== 'slice' && mode !== 'statements') throw new UsageError(`--mode "${mode}" is unknown: use slice (linear load) or statements (the seed's model)`);
  if (mode === 'slice' && raw.count !== undefined) throw new UsageError('--count is for --mode statements; slice mode runs at --rate for the whole slice');
  if (mode === 'statements' && raw.workers !== undefined) throw new UsageError('--workers is for --mode slice; in statements mode the queue decides how many workers run');
  if (mode === 'statements' && raw.workerRate !== undefined) throw new UsageError('--worker-rate is for --mode slice');
  const count = raw.count !== undefined ? posInt(raw.count, '--count', LIMITS.maxCount) : RUN_DEFAULTS.count;
  const workers = raw.workers !== undefined ? posInt(raw.workers, '--workers', 10_000) : undefined;
  const maxWorkerRate = raw.workerRate !== undefined ? posNumber(raw.workerRate, '--worker-rate') : SLICE_DEFAULTS.maxWorkerRate;
  if (maxWorkerRate > LIMITS.maxRate) throw new UsageError(`--worker-rate must be at most ${LIMITS.maxRate} (the worker's limit per slice), got ${maxWorkerRate}`);
  if (workers !== undefined && rate / workers > LIMITS.maxRate) {
    throw new UsageError(`--rate ${rate} over --workers ${workers} is ${(rate / workers).toFixed(1)}/s per worker, over the worker's limit of ${LIMITS.maxRate}/s: use --workers ${Math.ceil(rate / LIMITS.maxRate)} or more`);
  }
  const concurrency = raw.concurrency !== undefined ? posInt(raw.concurrency, '--concurrency', 1000) : RUN_DEFAULTS.concurrency;
  const startLeadMs = raw.startLead !== undefined ? parseDuration(raw.startLead, '--start-lead') : RUN_DEFAULTS.startLeadMs[where];
  const lateLimitMs = raw.lateLimit !== undefined ? parseDuration(raw.lateLimit, '--late-limit') : undefined;
  if (lateLimitMs !== undefined && (lateLimitMs < 1 || lateLimitMs > LIMITS.maxLateLimitMs)) {
    throw new UsageError(`--late-limit must be between 1ms and ${LIMITS.maxLateLimitMs / 1000}s, got "${raw.lateLimit}"`);
  }
  if (mode === 'statements' && lateLimitMs !== undefined) throw new UsageError('--late-limit is for --mode slice (statements mode has no schedule to be late for)');
  const maxConnections = raw.maxConnections !== undefined ? posInt(raw.maxConnections, '--max-connections', 1_000_000) : undefined;
  const maxConcurrency = raw.maxConcurrency !== undefined ? posInt(raw.maxConcurrency, '--max-concurrency', MAX_CONCURRENCY_RANGE.max) : undefined;
  if (maxConcurrency !== undefined && maxConcurrency < MAX_CONCURRENCY_RANGE.min) {
    throw new UsageError(`--max-concurrency must be at least ${MAX_CONCURRENCY_RANGE.min} (the event source's MaximumConcurrency is ${MAX_CONCURRENCY_RANGE.min}-${MAX_CONCURRENCY_RANGE.max}), got ${maxConcurrency}`);
  }
  if (raw.dryRun && raw.failoverAt !== undefined) throw new UsageError('--dry-run sends nothing, so there is no load to fail over under: drop --failover-at');
  const scale = raw.scale !== undefined ? posInt(raw.scale, '--scale', LIMITS.maxScale) : undefined;
  if (scale !== undefined && !local) throw new UsageError('--scale is for --local runs (they init the workload first); in AWS run node trigger init --workload tpcb --scale N');

  const failoverAtMs = raw.failoverAt !== undefined ? parseDuration(raw.failoverAt, '--failover-at') : undefined;
  if (failoverAtMs !== undefined) {
    if (failoverAtMs <= 0 || failoverAtMs >= durationMs) {
      throw new UsageError(`--failover-at ${raw.failoverAt} must fall within the load: after 0s and before --duration (${formatDurationFlag(durationMs)})`);
    }
    if (servers) {
      throw new UsageError('--failover-at on a local run needs the embedded cluster (it promotes the embedded standby): drop --writer-url/--reader-url');
    }
  }

  // The probe rides along with runs whose scripts both read and write (by the catalog's targets).
  const targetOfOp = new Map(catalog.operationsOf(workload).map((o) => [o.op, o.target]));
  const mixTargets = new Set(mix.map((m) => targetOfOp.get(m.op)));
  const stalenessProbe = raw.stalenessProbe ?? (mixTargets.has('reader') && mixTargets.has('writer'));
  if (raw.html !== undefined && raw.html.trim() === '') throw new UsageError('--html needs a file name, e.g. --html run.html');

  const runId = raw.runId ?? generateRunId(now);
  if (!LIMITS.runIdPattern.test(runId)) throw new UsageError(`--run-id "${runId}" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);

  const thresholds = (raw.threshold ?? []).map(parseThreshold);
  const queueUrl = raw.queueUrl !== undefined ? parseQueueUrl(raw.queueUrl) : undefined;
  // The dlq gate reads the workers' count from the stack's metric namespace: a hand-passed queue
  // could belong to another deployment, whose workers publish elsewhere.
  const dlq = thresholds.find((t) => t.metric === 'dlq');
  if (queueUrl && dlq) throw new UsageError(`--threshold ${dlq.text} judges the stack's own queue: drop --queue-url and name the stack with --stack NAME (default ${RUN_DEFAULTS.stack})`);
  const region = raw.region !== undefined ? parseRegion(raw.region) : undefined;

  return {
    where, demo, runId, workload, kinds, mix,
    hashes: hashesOf(workload, mix, catalog), vars, randomSeed: newRandomSeed(),
    ...(Object.keys(hosts).length ? { hosts } : {}),
    rate, durationMs, rampMs, mode, count,
    ...(workers !== undefined ? { workers } : {}),
    maxWorkerRate, concurrency, startLeadMs, startLeadGiven: raw.startLead !== undefined,
    ...(lateLimitMs !== undefined ? { lateLimitMs } : {}),
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
    scaleUp: raw.scaleUp !== false,
    dryRun: raw.dryRun === true,
    thresholds, json: raw.json === true, save: raw.save !== false,
    ...(scale !== undefined ? { scale } : {}),
    ...(failoverAtMs !== undefined ? { failoverAtMs } : {}),
    stalenessProbe,
    ...(raw.html !== undefined ? { html: raw.html } : {}),
    aws: {
      ...(queueUrl ? { queueUrl } : {}),
      ...(region ? { region } : {}),
      stack: raw.stack ?? RUN_DEFAULTS.stack,
      ...(raw.namespace ? { namespace: raw.namespace } : {}),
    },
    local: { ...(servers ? { servers } : {}) },
  };
}

/**
 * A workload of `catalog` that parsed cleanly. A broken one is refused with its first problem,
 * the very line `npm test` prints for it.
 */
export function workloadOf(name: string, catalog: Catalog, flag = '--workload'): WorkloadName {
  const problems = catalog.problemsOf(name);
  if (problems.length) throw new UsageError(`${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more: node trigger workloads lists them)` : ''}`);
  if (!catalog.has(name)) {
    const names = catalog.names;
    const choices = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names.join('');
    throw new UsageError(`${flag} "${name}" is unknown: use ${choices} (a folder of workloads/)`);
  }
  return name;
}
