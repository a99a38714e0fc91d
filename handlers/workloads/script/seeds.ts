/**
 * Where a message's random numbers come from. pgbench seeds one base generator with
 * --random-seed, gives each client a generator seeded from the base's next draw, and then draws
 * :default_seed (the default seed of hash() and permute()). A run here has one random seed; the
 * message with seq 0 gets exactly pgbench's first client generator and every worker gets
 * pgbench's :default_seed for one client, so `pgbench -c 1 --random-seed=S` and a one-message run
 * with seed S draw the same values. Other messages start from the same derivation at S + seq, so
 * no two messages of a run repeat each other's draws.
 */
import { s64, u64 } from './int64';
import { PgPrng } from './prng';

/** `:default_seed` for a run seed: the base generator's second draw (pgbench, one client). */
export function defaultSeedOf(randomSeed: bigint): bigint {
  const base = PgPrng.seeded(randomSeed);
  base.uint64();
  return s64(base.uint64());
}

/** The generator of message `seq` of a run. */
export function messageGenerator(randomSeed: bigint, seq: number): PgPrng {
  return PgPrng.seeded(PgPrng.seeded(u64(randomSeed + BigInt(seq))).uint64());
}
