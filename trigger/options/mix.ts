import type { MixEntry } from '../../handlers/protocol/message';
import { LIMITS } from '../../handlers/protocol/limits';
import { kindOf, WorkloadError, type Catalog, type OpKind, type Target, type WorkloadName } from '../../handlers/workloads/catalog';
import { projectCatalog } from '../../handlers/workloads/project';
import { UsageError } from '../errors';
import { round } from '../round';

export const DEFAULT_MIX = 'read=80,write=20';

/**
 * Parse `--mix`: comma-separated `name=weight` pairs, where a name is `read`, `write` (the
 * workload's only reader or writer script) or one of the workload's script names. Weights are
 * relative. Entries for a kind of traffic that was not asked for (`--reader` only, say), or that
 * the workload has no script for, are dropped from the default mix and refused in an explicit one.
 */
export function parseMix(
  text: string,
  workload: WorkloadName,
  kinds: ReadonlySet<OpKind>,
  explicit: boolean,
  catalog: Catalog = projectCatalog(),
): MixEntry[] {
  const ops = catalog.operationsOf(workload);
  const targetOfOp = new Map(ops.map((o) => [o.op, o.target]));
  const weights = new Map<string, number>();
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw new UsageError(`--mix is empty: use e.g. ${DEFAULT_MIX}`);
  for (const part of parts) {
    const m = /^([A-Za-z][\w-]*)\s*[=:]\s*(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new UsageError(`--mix entry "${part}" is not name=weight: use e.g. ${DEFAULT_MIX}`);
    const name = m[1]!.toLowerCase();
    let op: string | undefined = name;
    if (name === 'read' || name === 'write') {
      const target: Target = name === 'read' ? 'reader' : 'writer';
      try {
        op = catalog.defaultOp(workload, target);
      } catch (e) {
        if (e instanceof WorkloadError) throw new UsageError(e.message);
        throw e;
      }
      if (op === undefined) {
        if (explicit && Number(m[2]) > 0) throw new UsageError(`--mix gives ${name}= but workload ${workload} has no ${target} script (it has: ${describeOps(ops)})`);
        continue;
      }
    } else if (!targetOfOp.has(op)) {
      throw new UsageError(`--mix names "${name}", which is neither read, write nor a script of ${workload} (${describeOps(ops)})`);
    }
    weights.set(op, (weights.get(op) ?? 0) + Number(m[2]));
  }
  const mix: MixEntry[] = [];
  for (const [op, weight] of weights) {
    if (weight === 0) continue;
    const kind = kindOf(targetOfOp.get(op)!);
    if (!kinds.has(kind)) {
      if (explicit) {
        const flag = kind === 'read' ? '--reader' : '--writer';
        throw new UsageError(`--mix gives ${op} (${kind}) weight ${weight} but ${flag} was not given: add ${flag}, or drop ${op} from --mix`);
      }
      continue;
    }
    mix.push({ op, weight });
  }
  if (mix.length === 0) throw new UsageError(`--mix "${text}" leaves nothing to run: give at least one weight above 0`);
  if (mix.length > LIMITS.maxMixEntries) throw new UsageError(`--mix has ${mix.length} entries; at most ${LIMITS.maxMixEntries}`);
  return mix;
}

function describeOps(ops: readonly { op: string; target: Target }[]): string {
  return ops.map((o) => `${o.op} on the ${o.target}`).join(', ');
}

/** The content hash of each script of the mix, which its messages carry. */
export function hashesOf(workload: WorkloadName, mix: readonly MixEntry[], catalog: Catalog = projectCatalog()): Record<string, string> {
  const scripts = catalog.get(workload)!.scripts;
  return Object.fromEntries(mix.map((m) => [m.op, scripts.get(m.op)!.hash]));
}

/** `select=80,insert=20`: the resolved mix as the summary shows it, in percent. */
export function describeMix(mix: readonly MixEntry[]): string {
  const total = mix.reduce((s, e) => s + e.weight, 0);
  return mix.map((e) => `${e.op}=${round(100 * e.weight / total, 1)}%`).join(',');
}
