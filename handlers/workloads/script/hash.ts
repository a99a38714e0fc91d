/**
 * pgbench's deterministic integer functions, bit for bit: hash_fnv1a, hash_murmur2 (hash) and
 * permute. Arguments and results are int64; the arithmetic is uint64, wrapping.
 */
import { leftmostOnePos64, s64, u64 } from './int64';
import { PgPrng } from './prng';

const FNV_PRIME = 0x100000001b3n;
const FNV_OFFSET_BASIS = 0xcbf29ce484222325n;
const MM2_MUL = 0xc6a4a7935bd1e995n;
const MM2_MUL_TIMES_8 = 0x35253c9ade8f4ca8n;
const MM2_ROT = 47n;

export function hashFnv1a(val: bigint, seed: bigint): bigint {
  let result = FNV_OFFSET_BASIS ^ u64(seed);
  let v = u64(val);
  for (let i = 0; i < 8; i++) {
    result = u64((result ^ (v & 0xffn)) * FNV_PRIME);
    v >>= 8n;
  }
  return s64(result);
}

export function hashMurmur2(val: bigint, seed: bigint): bigint {
  let result = u64(seed) ^ MM2_MUL_TIMES_8;
  let k = u64(val);
  k = u64(k * MM2_MUL);
  k ^= k >> MM2_ROT;
  k = u64(k * MM2_MUL);
  result ^= k;
  result = u64(result * MM2_MUL);
  result ^= result >> MM2_ROT;
  result = u64(result * MM2_MUL);
  result ^= result >> MM2_ROT;
  return s64(result);
}

/** permute(val, size, seed): a pseudorandom permutation of [0, size); size must be > 0. */
export function permute(val: bigint, isize: bigint, seed: bigint): bigint {
  if (isize < 2n) return 0n;
  const state = PgPrng.seeded(seed);
  const size = u64(isize);
  let v = u64(val) % size;
  const masklen = BigInt(leftmostOnePos64(size));
  const mask = (1n << masklen) - 1n;
  for (let i = 0; i < 6; i++) {
    let m = (state.uint64() & mask) | 1n;
    let r = state.uint64() & mask;
    if (v <= mask) {
      v = (u64(v * m) ^ r) & mask;
      v = ((v << 1n) & mask) | (v >> (masklen - 1n));
    }
    m = (state.uint64() & mask) | 1n;
    r = state.uint64() & mask;
    let t = size - 1n - v;
    if (t <= mask) {
      t = (u64(t * m) ^ r) & mask;
      t = ((t << 1n) & mask) | (t >> (masklen - 1n));
      v = size - 1n - t;
    }
    r = state.uint64Range(0n, size - 1n);
    v = (v + r) % size;
  }
  return s64(v);
}
