/**
 * pgbench's random functions (getrand, getExponentialRand, getGaussianRand, getZipfianRand), on
 * the PostgreSQL generator: the same draws in the same order, so the same seed gives the same
 * values. Argument checks (empty range, parameter bounds) are the evaluator's.
 */
import type { PgPrng } from './prng';

export const MIN_GAUSSIAN_PARAM = 2.0;
export const MIN_ZIPFIAN_PARAM = 1.001;
export const MAX_ZIPFIAN_PARAM = 1000.0;

/** Uniform over [min, max]; max - min must fit in int64. */
export function getrand(rng: PgPrng, min: bigint, max: bigint): bigint {
  return min + rng.uint64Range(0n, max - min);
}

/** Truncation toward zero of a double, as C's (int64) cast. */
function truncToBigInt(x: number): bigint {
  return BigInt(Math.trunc(x));
}

export function getExponentialRand(rng: PgPrng, min: bigint, max: bigint, parameter: number): bigint {
  const cut = Math.exp(-parameter);
  const uniform = 1.0 - rng.double();
  const rand = -Math.log(cut + (1.0 - cut) * uniform) / parameter;
  return min + truncToBigInt(Number(max - min + 1n) * rand);
}

export function getGaussianRand(rng: PgPrng, min: bigint, max: bigint, parameter: number): bigint {
  let stdev: number;
  do {
    stdev = rng.doubleNormal();
  } while (stdev < -parameter || stdev >= parameter);
  const rand = (stdev + parameter) / (parameter * 2.0);
  return min + truncToBigInt(Number(max - min + 1n) * rand);
}

/** Devroye's rejection method (pgbench's computeIterativeZipfian), for s > 1. */
function iterativeZipfian(rng: PgPrng, n: bigint, s: number): bigint {
  const b = Math.pow(2.0, s - 1.0);
  if (n <= 1n) return 1n;
  const nd = Number(n);
  for (;;) {
    const u = rng.double();
    const v = rng.double();
    const x = Math.floor(Math.pow(u, -1.0 / (s - 1.0)));
    const t = Math.pow(1.0 + 1.0 / x, s - 1.0);
    if (v * x * (t - 1.0) / (b - 1.0) <= t / b && x <= nd) return BigInt(x);
  }
}

export function getZipfianRand(rng: PgPrng, min: bigint, max: bigint, s: number): bigint {
  return min - 1n + iterativeZipfian(rng, max - min + 1n, s);
}
