/**
 * pgbench computes with C's int64 and uint64; JavaScript numbers lose integers above 2^53, so the
 * script engine keeps integers as bigint and wraps or checks them here.
 */
export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;
export const UINT64_MASK = (1n << 64n) - 1n;

/** The low 64 bits, unsigned: what a C uint64 holds after an overflowing operation. */
export function u64(x: bigint): bigint {
  return x & UINT64_MASK;
}

/** The same 64 bits read as a signed int64 (C's `(int64) u`). */
export function s64(x: bigint): bigint {
  return BigInt.asIntN(64, x);
}

export function fitsInt64(x: bigint): boolean {
  return x >= INT64_MIN && x <= INT64_MAX;
}

/** pg_leftmost_one_pos64: index of the highest set bit of a non-zero uint64. */
export function leftmostOnePos64(x: bigint): number {
  return x.toString(2).length - 1;
}
