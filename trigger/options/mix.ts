import type { MixEntry } from '../../handlers/protocol/message';
import { LIMITS } from '../../handlers/protocol/limits';
import { CATALOG, opInfo, type OpKind, type WorkloadName } from '../../handlers/workloads/catalog';
import { UsageError } from '../errors';
import { round } from '../round';

export const DEFAULT_MIX = 'read=80,write=20';

/**
 * Parse `--mix`: comma-separated `name=weight` pairs, where a name is `read`, `write` (the
 * workload's read and write operation) or one of the workload's operation names. Weights are
 * relative. Entries for a kind of traffic that was not asked for (`--reader` only, say) are
 * dropped from the default mix and refused in an explicit one.
 */
export function parseMix(
  text: string,
  workload: WorkloadName,
  kinds: ReadonlySet<OpKind>,
  explicit: boolean,
): MixEntry[] {
  const w = CATALOG[workload];
  const weights = new Map<string, number>();
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw new UsageError(`--mix is empty: use e.g. ${DEFAULT_MIX}`);
  for (const part of parts) {
    const m = /^([A-Za-z][\w-]*)\s*[=:]\s*(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new UsageError(`--mix entry "${part}" is not name=weight: use e.g. ${DEFAULT_MIX}`);
    const name = m[1]!.toLowerCase();
    const op = name === 'read' ? w.readOp : name === 'write' ? w.writeOp : name;
    if (!opInfo(workload, op)) {
      throw new UsageError(`--mix names "${name}", which is neither read, write nor an operation of ${workload} (${Object.keys(w.ops).join(', ')})`);
    }
    weights.set(op, (weights.get(op) ?? 0) + Number(m[2]));
  }
  const mix: MixEntry[] = [];
  for (const [op, weight] of weights) {
    if (weight === 0) continue;
    const kind = opInfo(workload, op)!.kind;
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

/** `select=80,insert=20`: the resolved mix as the summary shows it, in percent. */
export function describeMix(mix: readonly MixEntry[]): string {
  const total = mix.reduce((s, e) => s + e.weight, 0);
  return mix.map((e) => `${e.op}=${round(100 * e.weight / total, 1)}%`).join(',');
}
