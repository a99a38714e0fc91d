/**
 * pgbench's expression values (PgBenchValue): NULL, boolean, int64, double; how a variable's
 * text becomes a value (makeVariableValue) and how a value becomes the text a statement is sent
 * (getVariable: "%.15g" for doubles, as pgbench prints with DBL_DIG digits).
 */
import { fitsInt64 } from './int64';

export type Value =
  | { readonly type: 'null' }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'int'; readonly value: bigint }
  | { readonly type: 'double'; readonly value: number };

export const NULL: Value = { type: 'null' };
export const TRUE: Value = { type: 'boolean', value: true };
export const FALSE: Value = { type: 'boolean', value: false };
export const int = (value: bigint): Value => ({ type: 'int', value });
export const double = (value: number): Value => ({ type: 'double', value });
export const bool = (value: boolean): Value => (value ? TRUE : FALSE);

/** A failure while a script runs (pgbench's "evaluation of meta-command failed"); one line. */
export class ScriptRuntimeError extends Error {
  override readonly name = 'ScriptRuntimeError';
}

/** C's printf("%.{precision}g"), with PostgreSQL's own spelling of infinities and NaN. */
export function formatG(x: number, precision = 15): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa, expText] = x.toExponential(precision - 1).split('e') as [string, string];
  const exp = Number(expText);
  const trim = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= precision) {
    return `${trim(mantissa)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return trim(x.toFixed(precision - 1 - exp));
}

/**
 * C's printf("%f") as pgbench's error messages print a double (PostgreSQL's snprintf spells
 * infinities and NaN out). Every double of 1e21 or more is an integer, printed in full as C does.
 */
export function formatF(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (Math.abs(x) >= 1e21) return `${BigInt(x)}.000000`;
  return `${Object.is(x, -0) ? '-' : ''}${x.toFixed(6)}`;
}

/** The text pgbench sends for a value. A NULL is sent as SQL NULL (see handlers/README.md). */
export function textOf(v: Value): string | null {
  switch (v.type) {
    case 'null': return null;
    case 'boolean': return v.value ? 'true' : 'false';
    case 'int': return v.value.toString();
    case 'double': return formatG(v.value);
  }
}

/** strtoint64: optional spaces and sign, digits, optional trailing spaces; undefined if malformed. */
function strtoint64(text: string): bigint | 'overflow' | undefined {
  const m = /^\s*([+-]?)(\d+)\s*$/.exec(text);
  if (!m) return undefined;
  const v = BigInt(`${m[1]}${m[2]}`);
  return fitsInt64(v) ? v : 'overflow';
}

const DOUBLE_RE = /^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i;

/**
 * strtod over the whole text, with its range errors; undefined when malformed or out of range.
 * C's hexadecimal floats ("0x1.8p1") and "nan(...)", which glibc's strtod also reads, are refused
 * as malformed here.
 */
export function strtodouble(text: string): number | undefined {
  if (!DOUBLE_RE.test(text)) return undefined;
  const t = text.trim().replace(/^([+-]?)inf(inity)?$/i, '$1Infinity');
  const x = Number(t);
  if (/inf|nan/i.test(text)) return x;
  // strtod sets ERANGE on overflow and on underflow to zero or a denormal.
  if (!Number.isFinite(x)) return undefined;
  if (x !== 0 && Math.abs(x) < 2.2250738585072014e-308) return undefined;
  if (x === 0 && /[1-9]/.test(t.replace(/[eE].*$/, ''))) return undefined;
  return x;
}

/** is_an_int: optional leading spaces and sign, then only digits. */
function isAnInt(text: string): boolean {
  return /^\s*[+-]?\d*$/.test(text);
}

/** makeVariableValue: the value of a variable known only as text (-D, \gset). */
export function parseVariableText(name: string, text: string): Value {
  const len = text.length;
  if (len === 0) throw new ScriptRuntimeError(`variable "${name}" is empty and has no value`);
  const lower = text.toLowerCase();
  const prefixOf = (word: string): boolean => word.startsWith(lower);
  if (lower === 'null') return NULL;
  if (prefixOf('true') || prefixOf('yes') || lower === 'on') return TRUE;
  if (prefixOf('false') || prefixOf('no') || lower === 'off' || lower === 'of') return FALSE;
  if (isAnInt(text)) {
    const v = strtoint64(text);
    if (v === undefined) throw new ScriptRuntimeError(`invalid input syntax for type bigint: "${text}" (variable "${name}")`);
    if (v === 'overflow') throw new ScriptRuntimeError(`value "${text}" is out of range for type bigint (variable "${name}")`);
    return int(v);
  }
  const d = strtodouble(text);
  if (d === undefined) throw new ScriptRuntimeError(`malformed variable "${name}" value: "${text}"`);
  return double(d);
}

function typeName(v: Value): string {
  return v.type;
}

export function toBool(v: Value): boolean {
  if (v.type === 'boolean') return v.value;
  throw new ScriptRuntimeError(`cannot coerce ${typeName(v)} to boolean`);
}

/** C's rint(): round half to even. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function toInt(v: Value): bigint {
  if (v.type === 'int') return v.value;
  if (v.type === 'double') {
    const d = rint(v.value);
    if (Number.isNaN(d) || !(d >= -9223372036854775808 && d < 9223372036854775808)) {
      throw new ScriptRuntimeError(`double to int overflow for ${formatF(v.value)}`);
    }
    return BigInt(d);
  }
  throw new ScriptRuntimeError(`cannot coerce ${typeName(v)} to int`);
}

export function toDouble(v: Value): number {
  if (v.type === 'double') return v.value;
  if (v.type === 'int') return Number(v.value);
  throw new ScriptRuntimeError(`cannot coerce ${typeName(v)} to double`);
}

/** valueTruth: the condition of \if and CASE WHEN; non-zero numbers are true, NULL is false. */
export function truth(v: Value): boolean {
  switch (v.type) {
    case 'null': return false;
    case 'boolean': return v.value;
    case 'int': return v.value !== 0n;
    case 'double': return v.value !== 0;
  }
}
