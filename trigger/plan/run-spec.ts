import type { HostOverrides, MixEntry, ScriptOptions } from '../../handlers/protocol/message';
import type { WorkloadName } from '../../handlers/workloads/catalog';

/** What to put on the database, independent of how it is sent. */
export interface RunSpec {
  readonly runId: string;
  readonly workload: WorkloadName;
  readonly mix: readonly MixEntry[];
  /** Content hash of each script of the mix; every message names its scripts with it. */
  readonly hashes: Readonly<Record<string, string>>;
  /** `-D` variables. @default none */
  readonly vars?: Readonly<Record<string, string>>;
  /** The run's random seed. @default each worker draws its own */
  readonly randomSeed?: string;
  /** Explicit hosts from `--reader HOST` / `--writer HOST`; the worker checks its allowlist. */
  readonly hosts?: HostOverrides;
  /** Statements per second at full rate. */
  readonly rate: number;
  readonly durationMs: number;
  /** Time to reach `rate` from 0, linearly. */
  readonly rampMs: number;
}

/** The script options every message of the run carries (vars, random seed); clientId is per message. */
export function scriptOptionsOf(spec: RunSpec): Omit<ScriptOptions, 'clientId'> {
  return {
    ...(spec.vars && Object.keys(spec.vars).length ? { vars: spec.vars } : {}),
    ...(spec.randomSeed !== undefined ? { randomSeed: spec.randomSeed } : {}),
  };
}
