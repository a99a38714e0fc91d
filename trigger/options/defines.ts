import { randomBytes } from 'node:crypto';
import { LIMITS } from '../../handlers/protocol/limits';
import type { Catalog, WorkloadName } from '../../handlers/workloads/catalog';
import { UsageError } from '../errors';

/** pgbench's built-in variables, which every transaction starts with (-D overrides them). */
export const BUILTIN_VARIABLES = ['client_id', 'default_seed', 'random_seed', 'scale'] as const;

/**
 * `-D name=value` (pgbench's flag), repeatable: validated and bounded, as the protocol is. A
 * later definition of the same name wins, as in pgbench.
 */
export function parseDefines(list: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq < 0) throw new UsageError(`-D ${item}: give name=value, e.g. -D minprice=10`);
    const name = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (!LIMITS.variableNamePattern.test(name)) {
      throw new UsageError(`-D ${name.slice(0, 40)}=...: a variable name is 1-63 letters, digits or _, not starting with a digit`);
    }
    if (value.length > LIMITS.maxVariableLength) throw new UsageError(`-D ${name}=...: the value is ${value.length} characters; at most ${LIMITS.maxVariableLength}`);
    if (value.includes('\u0000')) throw new UsageError(`-D ${name}=...: the value contains a NUL character`);
    vars[name] = value;
  }
  if (Object.keys(vars).length > LIMITS.maxVariables) throw new UsageError(`-D defines ${Object.keys(vars).length} variables; at most ${LIMITS.maxVariables}`);
  return vars;
}

/**
 * Refuse a run whose script reads a variable nothing can set: not a built-in, not -D, not \set
 * in the script, and no \gset / \aset that could bring it. pgbench would fail every transaction.
 */
export function checkVariables(catalog: Catalog, workload: WorkloadName, ops: readonly string[], vars: Readonly<Record<string, string>>): void {
  const scripts = catalog.get(workload)!.scripts;
  for (const op of ops) {
    const s = scripts.get(op)!;
    if (s.parsed.stores) continue;
    const missing = [...s.parsed.reads].filter((v) => !s.parsed.sets.has(v) && !(BUILTIN_VARIABLES as readonly string[]).includes(v) && !(v in vars));
    if (missing.length) {
      throw new UsageError(`${s.file} reads :${missing[0]}, which nothing sets: give -D ${missing[0]}=value, or \\set it in the script`);
    }
  }
}

/** A fresh random seed for a run (pgbench --random-seed), an unsigned 64-bit integer in decimal. */
export function newRandomSeed(): string {
  return randomBytes(8).readBigUInt64BE().toString();
}
