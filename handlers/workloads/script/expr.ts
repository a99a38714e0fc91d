/**
 * pgbench's expression language (\set, \if, \elif), as exprscan.l and exprparse.y define it: a
 * hand-written tokenizer and a precedence-climbing parser that builds the same tree bison does.
 *
 * Precedence, lowest first (exprparse.y): OR; AND; NOT (prefix); IS, ISNULL, NOTNULL;
 * < > = <= >= <> != (non-associative); | # & << >> ~; + -; * / %; unary + - (and ~, which binds
 * at the bitwise level, so `~ 1 + 2` is `~(1 + 2)`, as in pgbench).
 */
import { INT64_MIN } from './int64';

export type Expr =
  | { readonly kind: 'const'; readonly value: ConstValue }
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'call'; readonly fn: FunctionName; readonly args: readonly Expr[] };

export type ConstValue =
  | { readonly type: 'null' }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'int'; readonly value: bigint }
  | { readonly type: 'double'; readonly value: number };

/** Operators are calls of internal functions, as in pgbench ("!and", "!case_end", ...). */
export type FunctionName =
  | '+' | '-' | '*' | '/' | 'mod' | 'abs' | 'least' | 'greatest' | 'debug' | 'pi' | 'sqrt' | 'ln' | 'exp'
  | 'int' | 'double' | 'random' | 'random_gaussian' | 'random_exponential' | 'random_zipfian' | 'pow'
  | '!and' | '!or' | '!not' | '&' | '|' | '#' | '<<' | '>>' | '=' | '<>' | '<=' | '<' | '!is' | '!case_end'
  | 'hash_murmur2' | 'hash_fnv1a' | 'permute';

/** Callable names and their argument counts (PGBENCH_FUNCTIONS); `power` and `hash` are aliases. */
const FUNCTIONS: Readonly<Record<string, { fn: FunctionName; min: number; max: number }>> = {
  abs: { fn: 'abs', min: 1, max: 1 },
  least: { fn: 'least', min: 1, max: Infinity },
  greatest: { fn: 'greatest', min: 1, max: Infinity },
  debug: { fn: 'debug', min: 1, max: 1 },
  pi: { fn: 'pi', min: 0, max: 0 },
  sqrt: { fn: 'sqrt', min: 1, max: 1 },
  ln: { fn: 'ln', min: 1, max: 1 },
  exp: { fn: 'exp', min: 1, max: 1 },
  int: { fn: 'int', min: 1, max: 1 },
  double: { fn: 'double', min: 1, max: 1 },
  random: { fn: 'random', min: 2, max: 2 },
  random_gaussian: { fn: 'random_gaussian', min: 3, max: 3 },
  random_exponential: { fn: 'random_exponential', min: 3, max: 3 },
  random_zipfian: { fn: 'random_zipfian', min: 3, max: 3 },
  pow: { fn: 'pow', min: 2, max: 2 },
  power: { fn: 'pow', min: 2, max: 2 },
  mod: { fn: 'mod', min: 2, max: 2 },
  hash: { fn: 'hash_murmur2', min: 1, max: 2 },
  hash_murmur2: { fn: 'hash_murmur2', min: 1, max: 2 },
  hash_fnv1a: { fn: 'hash_fnv1a', min: 1, max: 2 },
  permute: { fn: 'permute', min: 2, max: 3 },
};

/** Names a script can call, for documentation and `node trigger workloads`. */
export const FUNCTION_NAMES: readonly string[] = Object.keys(FUNCTIONS);

/** A syntax error in an expression; `column` is 1-based within the expression text. */
export class ExprSyntaxError extends Error {
  override readonly name = 'ExprSyntaxError';
  constructor(message: string, readonly column: number) {
    super(message);
  }
}

type TokenKind =
  | 'int' | 'double' | 'maxint1' | 'var' | 'ident' | 'op' | '(' | ')' | ','
  | 'AND' | 'OR' | 'NOT' | 'IS' | 'ISNULL' | 'NOTNULL' | 'CASE' | 'WHEN' | 'THEN' | 'ELSE' | 'END'
  | 'TRUE' | 'FALSE' | 'NULL' | 'eof';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly column: number;
}

const KEYWORDS: Readonly<Record<string, TokenKind>> = {
  and: 'AND', or: 'OR', not: 'NOT', is: 'IS', isnull: 'ISNULL', notnull: 'NOTNULL', case: 'CASE',
  when: 'WHEN', then: 'THEN', else: 'ELSE', end: 'END', true: 'TRUE', false: 'FALSE', null: 'NULL',
};

const OPERATORS = ['<>', '!=', '<=', '>=', '<<', '>>', '+', '-', '*', '/', '%', '=', '<', '>', '|', '&', '#', '~'];

/** exprscan.l's {alpha}: ASCII letters, underscore, and any non-ASCII character. */
const isAlpha = (c: string): boolean => /[A-Za-z_]/.test(c) || c.charCodeAt(0) >= 0x80;
const isAlnum = (c: string): boolean => isAlpha(c) || /[0-9]/.test(c);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const column = i + 1;
    if (/[ \t\r\f\v\n]/.test(c)) { i++; continue; }
    if (c === ':' && i + 1 < text.length && isAlnum(text[i + 1]!)) {
      let j = i + 1;
      while (j < text.length && isAlnum(text[j]!)) j++;
      tokens.push({ kind: 'var', text: text.slice(i + 1, j), column });
      i = j;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)/.exec(text.slice(i));
    if (num) {
      const t = num[0];
      const kind = /^\d+$/.test(t) ? (t === '9223372036854775808' ? 'maxint1' : 'int') : 'double';
      tokens.push({ kind, text: t, column });
      i += t.length;
      continue;
    }
    if (isAlpha(c)) {
      let j = i;
      while (j < text.length && isAlnum(text[j]!)) j++;
      const word = text.slice(i, j);
      tokens.push({ kind: KEYWORDS[word.toLowerCase()] ?? 'ident', text: word, column });
      i = j;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, column });
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, column });
      i += op.length;
      continue;
    }
    throw new ExprSyntaxError(`unexpected character "${c}"`, column);
  }
  tokens.push({ kind: 'eof', text: '', column: text.length + 1 });
  return tokens;
}

/** Binary operators: binding power and associativity (exprparse.y's %left / %nonassoc). */
const BINARY: Readonly<Record<string, { bp: number; assoc: 'left' | 'none'; fn: FunctionName; swap?: true }>> = {
  OR: { bp: 1, assoc: 'left', fn: '!or' },
  AND: { bp: 2, assoc: 'left', fn: '!and' },
  '<': { bp: 5, assoc: 'none', fn: '<' },
  '>': { bp: 5, assoc: 'none', fn: '<', swap: true },
  '=': { bp: 5, assoc: 'none', fn: '=' },
  '<=': { bp: 5, assoc: 'none', fn: '<=' },
  '>=': { bp: 5, assoc: 'none', fn: '<=', swap: true },
  '<>': { bp: 5, assoc: 'none', fn: '<>' },
  '!=': { bp: 5, assoc: 'none', fn: '<>' },
  '|': { bp: 6, assoc: 'left', fn: '|' },
  '#': { bp: 6, assoc: 'left', fn: '#' },
  '&': { bp: 6, assoc: 'left', fn: '&' },
  '<<': { bp: 6, assoc: 'left', fn: '<<' },
  '>>': { bp: 6, assoc: 'left', fn: '>>' },
  '+': { bp: 7, assoc: 'left', fn: '+' },
  '-': { bp: 7, assoc: 'left', fn: '-' },
  '*': { bp: 8, assoc: 'left', fn: '*' },
  '/': { bp: 8, assoc: 'left', fn: '/' },
  '%': { bp: 8, assoc: 'left', fn: 'mod' },
};
const IS_BP = 4;
const NOT_BP = 3;
const BIT_BP = 6;
const UNARY_BP = 9;

const call = (fn: FunctionName, ...args: Expr[]): Expr => ({ kind: 'call', fn, args });
const constant = (value: ConstValue): Expr => ({ kind: 'const', value });
const NULL_EXPR = constant({ type: 'null' });

class Parser {
  private pos = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parseAll(): Expr {
    if (this.peek().kind === 'eof') throw new ExprSyntaxError('missing expression', this.peek().column);
    const e = this.expr(0);
    const t = this.peek();
    if (t.kind !== 'eof') throw new ExprSyntaxError(`syntax error at "${t.text}"`, t.column);
    return e;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private expect(kind: TokenKind, what: string): Token {
    const t = this.next();
    if (t.kind !== kind) throw new ExprSyntaxError(`expected ${what}, found ${t.kind === 'eof' ? 'the end of the line' : `"${t.text}"`}`, t.column);
    return t;
  }

  private binaryOf(t: Token): (typeof BINARY)[string] | undefined {
    if (t.kind === 'op' || t.kind === 'AND' || t.kind === 'OR') return BINARY[t.kind === 'op' ? t.text : t.kind];
    return undefined;
  }

  private expr(minBp: number): Expr {
    let left = this.prefix();
    for (;;) {
      const t = this.peek();
      if ((t.kind === 'IS' || t.kind === 'ISNULL' || t.kind === 'NOTNULL') && IS_BP >= minBp) {
        left = this.postfixIs(left);
        continue;
      }
      const op = this.binaryOf(t);
      if (!op || op.bp < minBp) return left;
      this.next();
      const right = this.expr(op.bp + 1);
      left = op.swap ? call(op.fn, right, left) : call(op.fn, left, right);
      if (op.assoc === 'none') {
        const after = this.binaryOf(this.peek());
        if (after && after.bp === op.bp) throw new ExprSyntaxError(`comparison operators do not chain: "${this.peek().text}"`, this.peek().column);
      }
    }
  }

  /** expr IS [NOT] NULL|TRUE|FALSE, expr ISNULL, expr NOTNULL. */
  private postfixIs(left: Expr): Expr {
    const t = this.next();
    if (t.kind === 'ISNULL') return call('!is', left, NULL_EXPR);
    if (t.kind === 'NOTNULL') return call('!not', call('!is', left, NULL_EXPR));
    const negated = this.peek().kind === 'NOT';
    if (negated) this.next();
    const what = this.next();
    let rhs: Expr;
    if (what.kind === 'NULL') rhs = NULL_EXPR;
    else if (what.kind === 'TRUE' || what.kind === 'FALSE') rhs = constant({ type: 'boolean', value: what.kind === 'TRUE' });
    else throw new ExprSyntaxError(`IS must be followed by [NOT] NULL, TRUE or FALSE`, what.column);
    const is = call('!is', left, rhs);
    return negated ? call('!not', is) : is;
  }

  private prefix(): Expr {
    const t = this.next();
    switch (t.kind) {
      case '(': {
        const e = this.expr(0);
        this.expect(')', '")"');
        return e;
      }
      case 'op':
        if (t.text === '+') return this.expr(UNARY_BP);
        if (t.text === '-') {
          if (this.peek().kind === 'maxint1') {
            this.next();
            return constant({ type: 'int', value: INT64_MIN });
          }
          return call('-', constant({ type: 'int', value: 0n }), this.expr(UNARY_BP));
        }
        if (t.text === '~') return call('#', constant({ type: 'int', value: -1n }), this.expr(BIT_BP + 1));
        throw new ExprSyntaxError(`syntax error at "${t.text}"`, t.column);
      case 'NOT':
        return call('!not', this.expr(NOT_BP + 1));
      case 'NULL':
        return NULL_EXPR;
      case 'TRUE':
      case 'FALSE':
        return constant({ type: 'boolean', value: t.kind === 'TRUE' });
      case 'int': {
        const v = BigInt(t.text);
        if (v > (1n << 63n) - 1n) throw new ExprSyntaxError(`bigint constant overflow "${t.text}"`, t.column);
        return constant({ type: 'int', value: v });
      }
      case 'maxint1':
        throw new ExprSyntaxError(`bigint constant overflow "${t.text}"`, t.column);
      case 'double': {
        const v = Number(t.text);
        if (!Number.isFinite(v)) throw new ExprSyntaxError(`double constant overflow "${t.text}"`, t.column);
        return constant({ type: 'double', value: v });
      }
      case 'var':
        return { kind: 'var', name: t.text };
      case 'CASE':
        return this.caseExpr(t);
      case 'ident':
        return this.callExpr(t);
      case 'eof':
        throw new ExprSyntaxError('unexpected end of expression', t.column);
      default:
        throw new ExprSyntaxError(`syntax error at "${t.text}"`, t.column);
    }
  }

  private caseExpr(start: Token): Expr {
    const args: Expr[] = [];
    while (this.peek().kind === 'WHEN') {
      this.next();
      args.push(this.expr(0));
      this.expect('THEN', 'THEN');
      args.push(this.expr(0));
    }
    if (args.length === 0) throw new ExprSyntaxError('CASE needs at least one WHEN ... THEN ...', start.column);
    if (this.peek().kind === 'ELSE') {
      this.next();
      args.push(this.expr(0));
    } else {
      args.push(NULL_EXPR);
    }
    this.expect('END', 'END');
    return call('!case_end', ...args);
  }

  private callExpr(name: Token): Expr {
    const def = FUNCTIONS[name.text.toLowerCase()];
    if (this.peek().kind !== '(') {
      throw new ExprSyntaxError(def ? `expected "(" after ${name.text}` : `unexpected word "${name.text}" (variables are written :name)`, name.column);
    }
    if (!def) throw new ExprSyntaxError(`unexpected function name "${name.text}"`, name.column);
    this.next();
    const args: Expr[] = [];
    if (this.peek().kind !== ')') {
      args.push(this.expr(0));
      while (this.peek().kind === ',') {
        this.next();
        args.push(this.expr(0));
      }
    }
    this.expect(')', '")" or ","');
    if (args.length < def.min || args.length > def.max) {
      throw new ExprSyntaxError(`unexpected number of arguments (${args.length}) for ${name.text}`, name.column);
    }
    // hash() and permute() default their seed to :default_seed.
    if ((def.fn === 'hash_murmur2' || def.fn === 'hash_fnv1a') && args.length === 1) args.push({ kind: 'var', name: 'default_seed' });
    if (def.fn === 'permute' && args.length === 2) args.push({ kind: 'var', name: 'default_seed' });
    return call(def.fn, ...args);
  }
}

/** Parse one expression (the rest of a \set, \if or \elif line). Throws {@link ExprSyntaxError}. */
export function parseExpr(text: string): Expr {
  return new Parser(tokenize(text)).parseAll();
}

/** Every variable an expression reads. */
export function variablesOf(e: Expr, into: Set<string> = new Set()): Set<string> {
  if (e.kind === 'var') into.add(e.name);
  else if (e.kind === 'call') for (const a of e.args) variablesOf(a, into);
  return into;
}
