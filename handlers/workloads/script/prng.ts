/**
 * PostgreSQL's pseudo-random generator (src/common/pg_prng.c): xoroshiro128** 1.0, seeded through
 * splitmix64, with the same derived draws (uniform ranges by bitmask rejection, doubles from 52
 * bits, Box-Muller normals). Given the same seed, it yields exactly the values pgbench draws.
 */
import { leftmostOnePos64, u64 } from './int64';

const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

function rotl(x: bigint, bits: bigint): bigint {
  return u64((x << bits) | (x >> (64n - bits)));
}

export class PgPrng {
  private constructor(private s0: bigint, private s1: bigint) {}

  /** pg_prng_seed: the state a 64-bit seed gives (any bigint; its low 64 bits are used). */
  static seeded(seed: bigint): PgPrng {
    let state = u64(seed);
    const next = (): bigint => {
      state = u64(state + GOLDEN_GAMMA);
      let v = state;
      v = u64((v ^ (v >> 30n)) * 0xbf58476d1ce4e5b9n);
      v = u64((v ^ (v >> 27n)) * 0x94d049bb133111ebn);
      return v ^ (v >> 31n);
    };
    // pg_prng_seed then checks for the all-zero state (a fixed point of the generator), which
    // no seed reaches: the two words are mix(seed + G) and mix(seed + 2G) for a bijective mix
    // with mix(0) = 0, so both are zero only if G were.
    return new PgPrng(next(), next());
  }

  /** pg_prng_uint64: uniform over [0, 2^64). */
  uint64(): bigint {
    const s0 = this.s0;
    const sx = this.s1 ^ s0;
    const val = u64(rotl(u64(s0 * 5n), 7n) * 9n);
    this.s0 = rotl(s0, 24n) ^ sx ^ u64(sx << 16n);
    this.s1 = rotl(sx, 37n);
    return val;
  }

  /** pg_prng_uint64_range: uniform over [min, max] (unsigned); min when the range is empty. */
  uint64Range(min: bigint, max: bigint): bigint {
    if (max <= min) return min;
    const range = max - min;
    const shift = BigInt(63 - leftmostOnePos64(range));
    let val: bigint;
    do {
      val = this.uint64() >> shift;
    } while (val > range);
    return min + val;
  }

  /** pg_prng_double: uniform over [0, 1), from the top 52 bits. */
  double(): number {
    return Number(this.uint64() >> 12n) / 4503599627370496;
  }

  /** pg_prng_double_normal: one standard normal draw (Box-Muller, two uniforms in (0, 1]). */
  doubleNormal(): number {
    const u1 = 1 - this.double();
    const u2 = 1 - this.double();
    return Math.sqrt(-2 * Math.log(u1)) * Math.sin(2 * Math.PI * u2);
  }
}
