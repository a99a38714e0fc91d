/**
 * Every operator and function of the script language on the values pgbench gives it: each expected
 * value and error below was printed by pgbench 15 for the same expression (`\set x debug(EXPR)`,
 * `pgbench -t 1`), so they pin int64 arithmetic and its overflow errors, division, comparisons of
 * ints and doubles, NULL, the lazy AND / OR / CASE, IS, and the numeric functions.
 */
import { expect } from 'chai';
import { evaluate } from '../../../handlers/workloads/script/evaluate';
import { parseExpr } from '../../../handlers/workloads/script/expr';
import { PgPrng } from '../../../handlers/workloads/script/prng';
import { int, ScriptRuntimeError, textOf, type Value } from '../../../handlers/workloads/script/value';

/** 1.5e300 as C's %f prints it: every digit of the double. */
const HUGE =
  '1500000000000000078757140382806630373056702871662238732373781173267703686983362293679557062620671796065556665749325817265413784853040645863467188277180060474272580801389863705606745350692182135089053429852456199917621678558451461320111979114170213741868888183230085264257173504208294580298189100810240.000000';

function value(text: string): Value {
  return evaluate(parseExpr(text), {
    lookup: (name) => {
      if (name === 'default_seed') return int(0n);
      throw new ScriptRuntimeError(`undefined variable "${name}"`);
    },
    rng: PgPrng.seeded(1n),
  });
}

/** What pgbench's debug() prints: type and text. */
function shown(text: string): string {
  const v = value(text);
  return v.type === 'null' ? 'null' : `${v.type} ${textOf(v)}`;
}

function check(cases: ReadonlyArray<readonly [string, string]>): void {
  for (const [text, expected] of cases) {
    it(`${text} = ${expected}`, () => {
      expect(shown(text)).to.equal(expected);
    });
  }
}

function checkErrors(cases: ReadonlyArray<readonly [string, string]>): void {
  for (const [text, message] of cases) {
    it(`fails ${text}: ${message.length > 80 ? `${message.slice(0, 77)}...` : message}`, () => {
      expect(() => value(text)).to.throw(ScriptRuntimeError).with.property('message', message);
    });
  }
}

describe('script operators and functions (pgbench 15 values)', () => {
  describe('integer arithmetic in int64, with pgbench\'s overflow errors', () => {
    check([
      ['7 - 10', 'int -3'],
      ['6 * 7', 'int 42'],
      ['7 / -1', 'int -7'],
      ['7 % -1', 'int 0'],
      ['-9223372036854775808 % -1', 'int 0'],
      ['7.5 % 2', 'int 0'],
      ['7 % 2.5', 'int 1'],
    ]);
    checkErrors([
      ['-9223372036854775807 - 2', 'bigint sub out of range'],
      ['4611686018427387904 * 2', 'bigint mul out of range'],
      ['-9223372036854775808 / -1', 'bigint div out of range'],
      ['5 % 0', 'division by zero'],
      ['5 / 0', 'division by zero'],
    ]);
  });

  describe('double arithmetic when either side is a double', () => {
    check([
      ['2.5 - 1', 'double 1.5'],
      ['1.5 * 2', 'double 3'],
      ['5.0 / 0', 'double Infinity'],
      ['-1e308 * 10', 'double -Infinity'],
      ['sqrt(-1)', 'double NaN'],
      ['0.0 * -1', 'double -0'],
    ]);
  });

  describe('comparisons', () => {
    check([
      ['3 = 3', 'boolean true'], ['3 <> 3', 'boolean false'], ['3 <> 4', 'boolean true'],
      ['3 <= 3', 'boolean true'], ['4 <= 3', 'boolean false'], ['3 < 3', 'boolean false'], ['2 < 3', 'boolean true'],
      ['1.5 = 1.5', 'boolean true'], ['1.5 <> 1.5', 'boolean false'], ['1.5 <> 2', 'boolean true'],
      ['1.5 <= 1.5', 'boolean true'], ['1.5 < 1.5', 'boolean false'], ['1 = 1.0', 'boolean true'],
      // Doubles are compared as doubles, not rounded to ints first.
      ['1.4 = 1.2', 'boolean false'], ['1.4 <= 1.2', 'boolean false'], ['1.2 < 1.4', 'boolean true'],
    ]);
  });

  describe('bitwise operators and shifts (the count modulo 64)', () => {
    check([
      ['12 & 10', 'int 8'], ['12 | 10', 'int 14'], ['12 # 10', 'int 6'], ['-16 >> 2', 'int -4'],
      ['1 << 63', 'int -9223372036854775808'], ['1 << 64', 'int 1'], ['5 >> 65', 'int 2'], ['1 & 2.6', 'int 1'],
    ]);
  });

  describe('NULL, IS, and the lazy AND / OR / CASE', () => {
    check([
      ['NULL = NULL', 'null'], ['NULL < 1', 'null'], ['NOT NULL', 'null'], ['debug(NULL)', 'null'],
      ['NULL IS NULL', 'boolean true'], ['1 IS NOT NULL', 'boolean true'], ['NULL NOTNULL', 'boolean false'],
      ['true IS TRUE', 'boolean true'], ['false IS TRUE', 'boolean false'], ['true IS FALSE', 'boolean false'],
      ['NULL IS TRUE', 'boolean false'], ['1 IS TRUE', 'boolean false'],
      ['NULL AND true', 'null'], ['true AND NULL', 'null'], ['false AND NULL', 'boolean false'],
      ['true AND false', 'boolean false'], ['true AND true', 'boolean true'],
      ['true OR 1 / 0 = 1', 'boolean true'], ['true OR 1', 'boolean true'], ['false OR true', 'boolean true'],
      ['false OR false', 'boolean false'], ['false OR NULL', 'null'], ['NULL OR true', 'null'],
      ['CASE WHEN false THEN 1 END', 'null'],
      ['CASE WHEN false THEN 1 ELSE 2 END', 'int 2'],
      ['CASE WHEN 0 THEN 1 WHEN 2 THEN 3 ELSE 4 END', 'int 3'],
      ['CASE WHEN NULL THEN 1 ELSE 2 END', 'int 2'],
      ['CASE WHEN 0.0 THEN 1 ELSE 2 END', 'int 2'],
      ['CASE WHEN 0.5 THEN 1 ELSE 2 END', 'int 1'],
      ['CASE WHEN true THEN 1 WHEN 1 / 0 = 1 THEN 2 END', 'int 1'],
    ]);
    checkErrors([
      ['1 AND true', 'cannot coerce int to boolean'],
      ['true AND 1', 'cannot coerce int to boolean'],
      ['NOT 1', 'cannot coerce int to boolean'],
    ]);
  });

  describe('numeric functions', () => {
    check([
      ['abs(-5)', 'int 5'], ['abs(5)', 'int 5'], ['abs(-2.5)', 'double 2.5'],
      ['abs(-9223372036854775808)', 'int -9223372036854775808'],
      ['least(3, 1, 2)', 'int 1'], ['least(1, 3, 2)', 'int 1'], ['greatest(1, 7, 3)', 'int 7'], ['least(5)', 'int 5'],
      ['least(2, 1.5)', 'double 1.5'], ['least(1.5, 2)', 'double 1.5'],
      ['greatest(2.5, 1)', 'double 2.5'], ['greatest(3, 1.5, 2)', 'double 3'],
      // pgbench's Min / Max: a tie or a NaN keeps the later argument.
      ['least(0.0, 0.0 * -1)', 'double -0'], ['least(0.0 * -1, 0.0)', 'double 0'],
      ['greatest(0.0, 0.0 * -1)', 'double -0'], ['greatest(0.0 * -1, 0.0)', 'double 0'],
      ['least(1.0, sqrt(-1))', 'double NaN'], ['least(sqrt(-1), 1.0)', 'double 1'],
      ['greatest(1.0, sqrt(-1), 2.0)', 'double 2'], ['greatest(sqrt(-1), 1.0)', 'double 1'],
      ['sqrt(16)', 'double 4'], ['ln(10)', 'double 2.30258509299405'], ['exp(1)', 'double 2.71828182845905'],
      ['pow(2, 10)', 'double 1024'], ['power(2, 0.5)', 'double 1.4142135623731'],
      ['double(3)', 'double 3'], ['debug(5)', 'int 5'],
      ['int(-2.5)', 'int -2'], ['int(-3.5)', 'int -4'], ['int(2.4)', 'int 2'],
      ['int(-9223372036854775808.0)', 'int -9223372036854775808'],
      ['int(9.2233720368547e18)', 'int 9223372036854700032'],
    ]);
    checkErrors([
      ['int(1e19)', 'double to int overflow for 10000000000000000000.000000'],
      ['int(-1e19)', 'double to int overflow for -10000000000000000000.000000'],
      ['int(9223372036854775807.0)', 'double to int overflow for 9223372036854775808.000000'],
      ['int(1.5e300)', `double to int overflow for ${HUGE}`],
      ['int(sqrt(-1))', 'double to int overflow for NaN'],
      ['int(-1e308 * 10)', 'double to int overflow for -Infinity'],
      ['int(1e308 * 10)', 'double to int overflow for Infinity'],
      ['int(1e21)', 'double to int overflow for 1000000000000000000000.000000'],
      ['sqrt(true)', 'cannot coerce boolean to double'],
      ['-true', 'cannot coerce boolean to int'],
      ['1 + true', 'cannot coerce boolean to int'],
      ['1.5 + true', 'cannot coerce boolean to double'],
      ['random(true, 3)', 'cannot coerce boolean to int'],
    ]);
  });
});
