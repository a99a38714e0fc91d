/**
 * Evaluation of pgbench expressions (evaluateExpr, evalLazyFunc, evalStandardFunc): int64
 * arithmetic with pgbench's overflow errors, double when either operand is a double, NULL
 * propagation, lazy AND / OR / CASE, and the random and hash functions on the client's generator.
 */
import type { Expr, FunctionName } from './expr';
import { hashFnv1a, hashMurmur2, permute } from './hash';
import { fitsInt64, INT64_MIN, s64 } from './int64';
import type { PgPrng } from './prng';
import { getExponentialRand, getGaussianRand, getrand, getZipfianRand, MAX_ZIPFIAN_PARAM, MIN_GAUSSIAN_PARAM, MIN_ZIPFIAN_PARAM } from './random';
import { bool, double, FALSE, formatF, int, NULL, ScriptRuntimeError, toBool, toDouble, toInt, truth, type Value } from './value';

/** What an expression can read: variables, and the client's random generator. */
export interface EvalContext {
  /** The variable's value; throws when it is undefined or malformed. */
  lookup(name: string): Value;
  readonly rng: PgPrng;
}

function checked(v: bigint, op: string): Value {
  if (!fitsInt64(v)) throw new ScriptRuntimeError(`bigint ${op} out of range`);
  return int(v);
}

export function evaluate(e: Expr, ctx: EvalContext): Value {
  switch (e.kind) {
    case 'const': return e.value;
    case 'var': return ctx.lookup(e.name);
    case 'call':
      if (e.fn === '!and' || e.fn === '!or' || e.fn === '!case_end') return lazy(e.fn, e.args, ctx);
      return standard(e.fn, e.args.map((a) => evaluate(a, ctx)), ctx);
  }
}

type LazyName = '!and' | '!or' | '!case_end';

function lazy(fn: LazyName, args: readonly Expr[], ctx: EvalContext): Value {
  if (fn === '!case_end') {
    for (let i = 0; i + 1 < args.length; i += 2) {
      if (truth(evaluate(args[i]!, ctx))) return evaluate(args[i + 1]!, ctx);
    }
    return evaluate(args[args.length - 1]!, ctx);
  }
  const a = evaluate(args[0]!, ctx);
  if (a.type === 'null') return NULL;
  const ba = toBool(a);
  if (fn === '!and' && !ba) return bool(false);
  if (fn === '!or' && ba) return bool(true);
  const b = evaluate(args[1]!, ctx);
  return b.type === 'null' ? NULL : bool(toBool(b));
}

/** Every function but the lazy ones, on its evaluated arguments. */
function standard(fn: Exclude<FunctionName, LazyName>, v: Value[], ctx: EvalContext): Value {
  if (fn !== '!is' && fn !== 'debug' && v.some((x) => x.type === 'null')) return NULL;
  switch (fn) {
    case '+': case '-': case '*': case '/': case 'mod': case '=': case '<>': case '<=': case '<':
      return arithmetic(fn, v[0]!, v[1]!);
    case '&': case '|': case '#': case '<<': case '>>': {
      const l = toInt(v[0]!);
      const r = toInt(v[1]!);
      // C shifts an int64 by the count modulo 64 on x86-64 (pgbench does not check it).
      if (fn === '&') return int(l & r);
      if (fn === '|') return int(l | r);
      if (fn === '#') return int(l ^ r);
      if (fn === '<<') return int(s64(l << (r & 63n)));
      return int(l >> (r & 63n));
    }
    case '!not': return bool(!toBool(v[0]!));
    case 'pi': return double(Math.PI);
    case 'abs': {
      const a = v[0]!;
      if (a.type === 'int') return int(s64(a.value < 0n ? -a.value : a.value));
      return double(Math.abs(toDouble(a)));
    }
    case 'debug': return v[0]!;
    case 'double': return double(toDouble(v[0]!));
    case 'sqrt': return double(Math.sqrt(toDouble(v[0]!)));
    case 'ln': return double(Math.log(toDouble(v[0]!)));
    case 'exp': return double(Math.exp(toDouble(v[0]!)));
    case 'int': return int(toInt(v[0]!));
    case 'least': case 'greatest': {
      // pgbench's Min / Max (x < y ? x : y) in argument order: a tie (0 and -0) or a NaN keeps the later one.
      const keep = <T extends number | bigint>(a: T, b: T): T => (fn === 'least' ? (a < b ? a : b) : (a > b ? a : b));
      if (v.some((x) => x.type === 'double')) return double(v.map(toDouble).reduce(keep));
      return int(v.map(toInt).reduce(keep));
    }
    case 'random': case 'random_gaussian': case 'random_exponential': case 'random_zipfian':
      return random(fn, v, ctx.rng);
    case 'pow': return double(Math.pow(toDouble(v[0]!), toDouble(v[1]!)));
    case '!is': {
      // The right side is always NULL, TRUE or FALSE (the grammar allows nothing else).
      const [a, b] = [v[0]!, v[1]!];
      if (a.type !== b.type) return FALSE;
      return bool(a.type !== 'boolean' || a.value === (b as typeof a).value);
    }
    case 'hash_murmur2': return int(hashMurmur2(toInt(v[0]!), toInt(v[1]!)));
    case 'hash_fnv1a': return int(hashFnv1a(toInt(v[0]!), toInt(v[1]!)));
    case 'permute': {
      const size = toInt(v[1]!);
      if (size <= 0n) throw new ScriptRuntimeError('permute size parameter must be greater than zero');
      return int(permute(toInt(v[0]!), size, toInt(v[2]!)));
    }
  }
}

function arithmetic(fn: '+' | '-' | '*' | '/' | 'mod' | '=' | '<>' | '<=' | '<', a: Value, b: Value): Value {
  if ((a.type === 'double' || b.type === 'double') && fn !== 'mod') {
    const l = toDouble(a);
    const r = toDouble(b);
    switch (fn) {
      case '+': return double(l + r);
      case '-': return double(l - r);
      case '*': return double(l * r);
      case '/': return double(l / r);
      case '=': return bool(l === r);
      case '<>': return bool(l !== r);
      case '<=': return bool(l <= r);
      case '<': return bool(l < r);
    }
  }
  const l = toInt(a);
  const r = toInt(b);
  switch (fn) {
    case '+': return checked(l + r, 'add');
    case '-': return checked(l - r, 'sub');
    case '*': return checked(l * r, 'mul');
    case '=': return bool(l === r);
    case '<>': return bool(l !== r);
    case '<=': return bool(l <= r);
    case '<': return bool(l < r);
    case '/': case 'mod':
      if (r === 0n) throw new ScriptRuntimeError('division by zero');
      if (r === -1n) {
        if (fn === 'mod') return int(0n);
        if (l === INT64_MIN) throw new ScriptRuntimeError('bigint div out of range');
        return int(-l);
      }
      // bigint division and remainder truncate toward zero, as C's do.
      return int(fn === '/' ? l / r : l % r);
  }
}

function random(fn: 'random' | 'random_gaussian' | 'random_exponential' | 'random_zipfian', v: Value[], rng: PgPrng): Value {
  const min = toInt(v[0]!);
  const max = toInt(v[1]!);
  if (min > max) throw new ScriptRuntimeError('empty range given to random');
  if (!fitsInt64(max - min + 1n)) throw new ScriptRuntimeError('random range is too large');
  if (fn === 'random') return int(getrand(rng, min, max));
  const param = toDouble(v[2]!);
  // Each check is written so that NaN fails it: pgbench lets a NaN parameter through, and then
  // loops forever (zipfian) or casts NaN to int64, which C leaves undefined (the others).
  if (fn === 'random_gaussian') {
    if (!(param >= MIN_GAUSSIAN_PARAM)) throw new ScriptRuntimeError(`gaussian parameter must be at least ${formatF(MIN_GAUSSIAN_PARAM)} (not ${formatF(param)})`);
    // An infinite one makes every draw NaN as well.
    if (param === Infinity) throw new ScriptRuntimeError('gaussian parameter must be finite (not Infinity)');
    return int(getGaussianRand(rng, min, max, param));
  }
  if (fn === 'random_zipfian') {
    if (!(param >= MIN_ZIPFIAN_PARAM && param <= MAX_ZIPFIAN_PARAM)) {
      throw new ScriptRuntimeError(`zipfian parameter must be in range [${MIN_ZIPFIAN_PARAM}, ${MAX_ZIPFIAN_PARAM}] (not ${formatF(param)})`);
    }
    return int(getZipfianRand(rng, min, max, param));
  }
  if (!(param > 0)) throw new ScriptRuntimeError(`exponential parameter must be greater than zero (not ${formatF(param)})`);
  return int(getExponentialRand(rng, min, max, param));
}
