/**
 * What a message's scripts are on this worker: the scripts it names, checked against the content
 * hash the sender planned with, and the variables and random generator its transactions start
 * from. A message the worker cannot honour exactly is a bad input, never a guess.
 */
import { randomBytes } from 'node:crypto';
import { InvalidMessageError, type ScriptOptions } from '../protocol/message';
import type { Catalog, Script, Workload } from './catalog';
import type { PgPrng } from './script/prng';
import { defaultSeedOf, messageGenerator } from './script/seeds';
import { s64 } from './script/int64';
import { int } from './script/value';
import { Variables } from './script/variables';

export function workloadFor(catalog: Catalog, name: string): Workload {
  const w = catalog.get(name);
  if (!w) throw new InvalidMessageError(`unknown workload "${name}" (this worker has: ${catalog.names.join(', ')}): deploy the current workloads/ first`);
  return w;
}

/**
 * Refuse an init message this worker cannot honour: an unknown workload, another init.sql than
 * the sender planned with, or a reset of a script workload (the worker cannot prove which tables
 * an init.sql created, and it drops no table it did not create).
 */
export function checkInit(catalog: Catalog, msg: { readonly workload: string; readonly reset?: boolean; readonly hash?: string }): Workload {
  const workload = workloadFor(catalog, msg.workload);
  if (msg.hash !== undefined && msg.hash !== workload.init?.hash) {
    throw new InvalidMessageError(`${workload.init?.file ?? `workloads/${workload.name}/init.sql`} on this worker ${workload.init ? `has content hash ${workload.init.hash}` : 'does not exist'}, the message was planned for ${msg.hash}: deploy the current workloads/ first`);
  }
  if (msg.reset && !workload.builtinLoader) {
    throw new InvalidMessageError(`init --reset is for tpcb only: ${workload.name}'s init.sql is idempotent, and the worker drops no table it cannot prove it created (drop them yourself to start over)`);
  }
  return workload;
}

/** The script `op` of `workload`, if this worker's copy has the content hash the sender planned for. */
export function scriptFor(catalog: Catalog, workload: string, op: string, hash: string): Script {
  const w = workloadFor(catalog, workload);
  const script = w.scripts.get(op);
  if (!script) {
    throw new InvalidMessageError(`workload ${workload} has no script "${op}" on this worker (it has: ${[...w.scripts.keys()].join(', ')}): deploy the current workloads/ first`);
  }
  if (script.hash !== hash) {
    throw new InvalidMessageError(`${script.file} on this worker has content hash ${script.hash}, the message was planned for ${hash}: deploy the scripts you planned with (git push), or plan from the commit this worker was built from`);
  }
  return script;
}

/** The variables and the random generator of one message's transactions. */
export function messageContext(msg: ScriptOptions & { readonly seq: number }): { variables: Variables; rng: PgPrng } {
  const seed = msg.randomSeed !== undefined ? BigInt(msg.randomSeed) : randomBytes(8).readBigUInt64BE();
  const variables = new Variables();
  // pgbench's built-ins; -D values override them, as in pgbench.
  variables.setValue('client_id', int(BigInt(msg.clientId ?? 0)));
  variables.setValue('random_seed', int(s64(seed)));
  variables.setValue('default_seed', int(defaultSeedOf(seed)));
  for (const [name, value] of Object.entries(msg.vars ?? {})) variables.setText(name, value);
  return { variables, rng: messageGenerator(seed, msg.seq) };
}
