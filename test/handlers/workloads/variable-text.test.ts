/**
 * A variable's two forms, as pgbench keeps them: the text it was given (`-D`, `\gset`) read as a
 * value when an expression uses it, and the text a value is sent as in a statement. Every
 * expectation was printed by pgbench 15: `pgbench -D x=TEXT` with `\set y debug(:x)` for the first,
 * `\set x debug(EXPR)` for the second (debug() prints a double as a statement gets it, "%.15g").
 */
import { expect } from 'chai';
import { evaluate } from '../../../handlers/workloads/script/evaluate';
import { parseExpr } from '../../../handlers/workloads/script/expr';
import { PgPrng } from '../../../handlers/workloads/script/prng';
import { parseVariableText, ScriptRuntimeError, textOf } from '../../../handlers/workloads/script/value';

describe('script variables given as text (-D, \\gset), read as pgbench reads them', () => {
  const values: Array<[string, string]> = [
    ['true', 'boolean true'], ['TRUE', 'boolean true'], ['t', 'boolean true'], ['tr', 'boolean true'],
    ['y', 'boolean true'], ['yes', 'boolean true'], ['on', 'boolean true'], ['ON', 'boolean true'],
    ['false', 'boolean false'], ['f', 'boolean false'], ['n', 'boolean false'], ['no', 'boolean false'],
    ['NO', 'boolean false'], ['off', 'boolean false'], ['of', 'boolean false'],
    ['null', 'null'], ['NULL', 'null'],
    ['+7', 'int 7'], ['  -42', 'int -42'],
    ['9223372036854775807', 'int 9223372036854775807'], ['-9223372036854775808', 'int -9223372036854775808'],
    ['1.5', 'double 1.5'], ['.5', 'double 0.5'], ['5.', 'double 5'], ['1e3', 'double 1000'], ['1E+3', 'double 1000'],
    ['-2.5e-3', 'double -0.0025'], [' 1.5', 'double 1.5'], [' +.5e1', 'double 5'],
    ['inf', 'double Infinity'], [' inf', 'double Infinity'], [' -nan', 'double NaN'], ['.55', 'double 0.55'], ['+inf', 'double Infinity'], ['-Infinity', 'double -Infinity'],
    ['nan', 'double NaN'], ['NaN', 'double NaN'], ['-nan', 'double NaN'],
    ['0e5', 'double 0'], ['0.0', 'double 0'], ['0.000e-5', 'double 0'], ['00.0', 'double 0'],
    ['2.2250738585072014e-308', 'double 2.2250738585072e-308'],
  ];
  for (const [text, expected] of values) {
    it(`"${text}" is ${expected}`, () => {
      const v = parseVariableText('x', text);
      expect(v.type === 'null' ? 'null' : `${v.type} ${textOf(v)}`).to.equal(expected);
    });
  }

  const malformed = [
    'o', 'nul', 'xinf', ' 12 ', '12a', '1 2', '1.5 ', 'infinity ', 'abc', '1e', 'e5', '.', '1.2.3',
    // strtod's range errors: overflow, underflow to zero, and denormals.
    '1e400', '-1e400', '1e-400', '4.9e-324', '1e-310',
  ];
  for (const text of malformed) {
    it(`"${text}" is refused as malformed`, () => {
      expect(() => parseVariableText('x', text)).to.throw(ScriptRuntimeError).with.property('message', `malformed variable "x" value: "${text}"`);
    });
  }

  const ints: Array<[string, string]> = [
    ['+', 'invalid input syntax for type bigint: "+" (variable "x")'],
    ['-', 'invalid input syntax for type bigint: "-" (variable "x")'],
    ['   ', 'invalid input syntax for type bigint: "   " (variable "x")'],
    ['9223372036854775808', 'value "9223372036854775808" is out of range for type bigint (variable "x")'],
    ['-9223372036854775809', 'value "-9223372036854775809" is out of range for type bigint (variable "x")'],
  ];
  for (const [text, message] of ints) {
    it(`"${text}" is refused as a bigint: ${message}`, () => {
      expect(() => parseVariableText('x', text)).to.throw(ScriptRuntimeError).with.property('message', message);
    });
  }

  it('refuses an empty text (a NULL stored by \\gset) with the variable\'s name', () => {
    expect(() => parseVariableText('x', '')).to.throw(ScriptRuntimeError).with.property('message', 'variable "x" is empty and has no value');
  });
});

describe('script values sent as statement parameters, in pgbench\'s text', () => {
  const sent: Array<[string, string]> = [
    ['1e100', '1e+100'], ['1.5e-300', '1.5e-300'], ['1e-100', '1e-100'], ['0.00001234', '1.234e-05'],
    ['-0.00001234', '-1.234e-05'], ['2.5e-5', '2.5e-05'], ['0.00012', '0.00012'], ['1/3.0*1e-3', '0.000333333333333333'],
    ['100000000000000.0', '100000000000000'], ['999999999999999.0', '999999999999999'], ['9999999999999999.0', '1e+16'], ['1e15', '1e+15'],
    ['123.456', '123.456'], ['1234567.0', '1234567'], ['-1.5', '-1.5'], ['0.0 * -1', '-0'], ['0.0', '0'],
    ['1e300 * 1e10', 'Infinity'], ['-(1e300 * 1e10)', '-Infinity'], ['sqrt(-1)', 'NaN'],
    ['true', 'true'], ['1 = 2', 'false'], ['-9223372036854775808', '-9223372036854775808'],
  ];
  for (const [expr, text] of sent) {
    it(`${expr} is sent as "${text}"`, () => {
      const v = evaluate(parseExpr(expr), { lookup: () => { throw new Error('no variables here'); }, rng: PgPrng.seeded(1n) });
      expect(textOf(v)).to.equal(text);
    });
  }
});
