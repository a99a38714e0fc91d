import type { HostOverrides, MixEntry } from '../../handlers/protocol/message';
import type { WorkloadName } from '../../handlers/workloads/catalog';

/** What to put on the database, independent of how it is sent. */
export interface RunSpec {
  readonly runId: string;
  readonly workload: WorkloadName;
  readonly mix: readonly MixEntry[];
  /** Explicit hosts from `--reader HOST` / `--writer HOST`; the worker checks its allowlist. */
  readonly hosts?: HostOverrides;
  /** Statements per second at full rate. */
  readonly rate: number;
  readonly durationMs: number;
  /** Time to reach `rate` from 0, linearly. */
  readonly rampMs: number;
}
