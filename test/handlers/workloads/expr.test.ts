/**
 * pgbench's expressions: every expected value below was printed by pgbench 15's debug() for the
 * same expression (`pgbench -t 1 --random-seed=42`), so these pin the parser's precedence, the
 * evaluator's arithmetic and the text a value is sent as.
 */
import { expect } from 'chai';
import { evaluate } from '../../../handlers/workloads/script/evaluate';
import { ExprSyntaxError, parseExpr } from '../../../handlers/workloads/script/expr';
import { PgPrng } from '../../../handlers/workloads/script/prng';
import { defaultSeedOf, messageGenerator } from '../../../handlers/workloads/script/seeds';
import { int, parseVariableText, ScriptRuntimeError, textOf, type Value } from '../../../handlers/workloads/script/value';

const SEED = 42n;

function run(text: string, vars: Record<string, Value> = {}, rng: PgPrng = PgPrng.seeded(1n)): Value {
  const all: Record<string, Value> = { default_seed: int(defaultSeedOf(SEED)), random_seed: int(SEED), ...vars };
  return evaluate(parseExpr(text), {
    lookup: (name) => {
      const v = all[name];
      if (!v) throw new ScriptRuntimeError(`undefined variable "${name}"`);
      return v;
    },
    rng,
  });
}

/** What pgbench's debug() prints: type and text. */
function shown(v: Value): string {
  return v.type === 'null' ? 'null' : `${v.type} ${textOf(v)}`;
}

describe('script expressions (pgbench 15 debug() values)', () => {
  const cases: Array<[string, string]> = [
    ['1 IS NULL IS NULL', 'boolean false'],
    ['~ 1 + 2', 'int -4'],
    ['- 9223372036854775808', 'int -9223372036854775808'],
    ['NOT 1 = 2', 'boolean true'],
    ['5 / 2.0', 'double 2.5'],
    ['7 % -3', 'int 1'],
    ['-7 / 2', 'int -3'],
    ['1e300 * 1e10', 'double Infinity'],
    ['int(2.5)', 'int 2'],
    ['int(3.5)', 'int 4'],
    ['hash(42)', 'int 416645645586623766'],
    ['hash_fnv1a(42, 5)', 'int 7229678446045915210'],
    ['permute(3, 10, 5)', 'int 9'],
    ['1 << 65', 'int 2'],
    [':default_seed', 'int 4306334408478191133'],
    [':random_seed', 'int 42'],
    ['0.1 + 0.2', 'double 0.3'],
    ['pi()', 'double 3.14159265358979'],
    ['1.0/3', 'double 0.333333333333333'],
    ['double(123456789012345678)', 'double 1.23456789012346e+17'],
    // Every function name and operator maps to its own function.
    ['abs(-3)', 'int 3'],
    ['Abs(-1)', 'int 1'],
    ['abs(-2.5)', 'double 2.5'],
    ['debug(7)', 'int 7'],
    ['sqrt(2.25)', 'double 1.5'],
    ['ln(1)', 'double 0'],
    ['exp(0)', 'double 1'],
    ['pow(2, 10)', 'double 1024'],
    ['power(2, 0.5)', 'double 1.4142135623731'],
    ['mod(-7, 3)', 'int -1'],
    ['PI()', 'double 3.14159265358979'],
    ['hash_murmur2(42, 5)', 'int 1528802566688538785'],
    ['hash_fnv1a(42)', 'int -1362870239169141934'],
    ['permute(3, 10)', 'int 5'],
    ['1 <= 2', 'boolean true'],
    ['2 >= 3', 'boolean false'],
    ['1 > 2', 'boolean false'],
    ['1 <> 2', 'boolean true'],
    ['1 != 1', 'boolean false'],
    ['5 | 2', 'int 7'],
    ['5 # 1', 'int 4'],
    ['6 & 3', 'int 2'],
    ['-16 >> 2', 'int -4'],
    ['+ 3', 'int 3'],
    ['1 + :random_seed', 'int 43'],
    // Associativity and precedence.
    ['10 - 4 - 3', 'int 3'],
    ['(1 + 2) * 3', 'int 9'],
    ['~ 1 = -2', 'boolean true'],
    ['NOT true AND false', 'boolean false'],
    ['NOT NULL IS NULL', 'boolean false'],
    ['NULL = 1 IS NULL', 'boolean true'],
    ['1 < 2 AND 2 < 3', 'boolean true'],
    ['true OR false', 'boolean true'],
    ['TRUE', 'boolean true'],
    ['true and false', 'boolean false'],
    ['false or true', 'boolean true'],
    // IS and its short forms.
    ['NULL ISNULL', 'boolean true'],
    ['1 NOTNULL', 'boolean true'],
    ['1 IS NOT NULL', 'boolean true'],
    ['true IS TRUE', 'boolean true'],
    ['false IS NOT FALSE', 'boolean false'],
    ['NULL IS FALSE', 'boolean false'],
    ['CASE WHEN false THEN 1 END', 'null'],
    // hash and permute, bit for bit, over the whole int64 range.
    ['permute(7, 100, 3)', 'int 44'],
    ['permute(-1, 10, 5)', 'int 1'],
    ['permute(12345, 1000000, -7)', 'int 763700'],
    ['permute(5, 1, 3)', 'int 0'],
    ['permute(3, 2, 9)', 'int 0'],
    ['permute(0, 2, 9)', 'int 1'],
    ['permute(100, 7, 1)', 'int 6'],
    ['permute(0, 3, 0)', 'int 2'],
    ['permute(9223372036854775807, 9223372036854775807, 11)', 'int 4170302282032583774'],
    ['permute(1, 1000003, 2)', 'int 421106'],
    ['hash_fnv1a(-1, 0)', 'int -8289690350564177859'],
    ['hash_fnv1a(0, -5)', 'int -5465015992139406178'],
    ['hash_fnv1a(255, 1)', 'int -5831747414176240325'],
    ['hash_fnv1a(256, 1)', 'int 5701465539935650431'],
    ['hash_murmur2(-1, 0)', 'int 4219408603045787357'],
    ['hash_murmur2(123456789012, 42)', 'int -920997259910172527'],
    ['hash(9223372036854775807, -9223372036854775808)', 'int -8969732497821252539'],
    // Number syntax (exprscan.l).
    ['9223372036854775807', 'int 9223372036854775807'],
    ['-9223372036854775807 - 1', 'int -9223372036854775808'],
    ['9223372036854775806 + 1', 'int 9223372036854775807'],
    ['1.25', 'double 1.25'],
    ['1.', 'double 1'],
    ['2.5e-1', 'double 0.25'],
    ['1E+2', 'double 100'],
    ['.5', 'double 0.5'],
    ['.25e+2', 'double 25'],
    ['.5e10', 'double 5000000000'],
    ['.5e-1', 'double 0.05'],
  ];
  for (const [text, expected] of cases) {
    it(`${text} = ${expected}`, () => {
      expect(shown(run(text))).to.equal(expected);
    });
  }

  it('draws the same random values as pgbench for the same --random-seed (client 0)', () => {
    const rng = messageGenerator(SEED, 0);
    expect(shown(run('random_zipfian(1, 100, 1.5)', {}, rng))).to.equal('int 2');
    expect(shown(run('random(1, 1000000)', {}, rng))).to.equal('int 309154');
  });

  it('draws random_exponential as pgbench does for the same --random-seed (client 0)', () => {
    expect(shown(run('random_exponential(1, 100, 2.0)', {}, messageGenerator(SEED, 0)))).to.equal('int 41');
  });

  it('reads variable names with non-ASCII characters (U+0080 and up), as pgbench reads their bytes', () => {
    expect(shown(run(':café + :x\u0080', { café: int(1n), 'x\u0080': int(2n) }))).to.equal('int 3');
  });

  it('skips tabs, carriage returns, form feeds and vertical tabs between tokens', () => {
    expect(shown(run('\t1\v+\f2\r\n'))).to.equal('int 3');
  });

  it('evaluates CASE, AND/OR lazily and NULL propagation as pgbench does', () => {
    expect(shown(run('CASE WHEN 1 > 2 THEN 1 WHEN 2 > 1 THEN 2 ELSE 3 END'))).to.equal('int 2');
    expect(shown(run('false AND 1 / 0 = 1'))).to.equal('boolean false');
    expect(shown(run('1 + NULL'))).to.equal('null');
    expect(shown(run('least(3, 2.5, 7)'))).to.equal('double 2.5');
    expect(shown(run('greatest(3, 7, -1)'))).to.equal('int 7');
  });

  const errors: Array<[string, RegExp]> = [
    ['1 / 0', /division by zero/],
    ['9223372036854775807 + 1', /bigint add out of range/],
    ['-9223372036854775808 - 1', /bigint sub out of range/],
    ['random(10, 1)', /empty range/],
    ['random_zipfian(1, 10, 0.5)', /zipfian parameter must be in range/],
    ['random_gaussian(1, 10, 1.0)', /gaussian parameter must be at least/],
    ['permute(1, 0)', /permute size parameter must be greater than zero/],
    [':nope + 1', /undefined variable "nope"/],
  ];
  for (const [text, expected] of errors) {
    it(`fails ${text} at run time: ${expected.source}`, () => {
      expect(() => run(text)).to.throw(ScriptRuntimeError, expected);
    });
  }

  const syntax: Array<[string, RegExp]> = [
    ['1 < 2 < 3', /do not chain/],
    ['nosuch(1)', /unexpected function name "nosuch"/],
    ['random(1)', /unexpected number of arguments \(1\) for random/],
    ['1 +', /unexpected end of expression/],
    ['(1', /expected "\)"/],
    ['1 $ 2', /unexpected character "\$"/],
    ['9223372036854775808', /bigint constant overflow/],
    ['aid', /variables are written :name/],
    ['', /missing expression/],
    ['1 = 1 = 1', /do not chain: "="/],
    ['1 <= 1 <= 1', /do not chain: "<="/],
    ['1 >= 1 >= 1', /do not chain: ">="/],
    ['1 > 2 > 3', /do not chain: ">"/],
    ['1 <> 1 <> 1', /do not chain: "<>"/],
    ['1 != 1 != 1', /do not chain: "!="/],
    ['1 2', /syntax error at "2"/],
    ['* 2', /syntax error at "\*"/],
    ['AND 1', /syntax error at "AND"/],
    ['CASE ELSE 1 END', /CASE needs at least one WHEN \.\.\. THEN \.\.\./],
    ['CASE WHEN 1 1 END', /expected THEN, found "1"/],
    ['CASE WHEN 1 THEN 1', /expected END, found the end of the line/],
    ['abs(1', /expected "\)" or ",", found the end of the line/],
    ['abs(1, 2)', /unexpected number of arguments \(2\) for abs/],
    ['pi', /expected "\(" after pi/],
    ['9223372036854775809', /bigint constant overflow "9223372036854775809"/],
    ['1e400', /double constant overflow "1e400"/],
    ['1 + :', /unexpected character ":"/],
    ['1 IS 2', /IS must be followed by \[NOT\] NULL, TRUE or FALSE/],
  ];
  for (const [text, expected] of syntax) {
    it(`refuses "${text}" when the script is parsed: ${expected.source}`, () => {
      expect(() => parseExpr(text)).to.throw(ExprSyntaxError, expected);
    });
  }

  it('gives the 1-based column of a syntax error', () => {
    const columnOf = (text: string): number | undefined => {
      try {
        parseExpr(text);
      } catch (e) {
        return (e as ExprSyntaxError).column;
      }
      return undefined;
    };
    expect(columnOf('1 + $')).to.equal(5);
    expect(columnOf('1 +')).to.equal(4);
  });

  it('reads a variable\'s text as pgbench does: booleans by prefix, ints, doubles, NULL', () => {
    expect(shown(parseVariableText('v', 'ye'))).to.equal('boolean true');
    expect(shown(parseVariableText('v', 'of'))).to.equal('boolean false');
    expect(shown(parseVariableText('v', ' 12'))).to.equal('int 12');
    expect(shown(parseVariableText('v', '1e3'))).to.equal('double 1000');
    expect(shown(parseVariableText('v', 'NULL'))).to.equal('null');
    expect(() => parseVariableText('v', 'abc')).to.throw(ScriptRuntimeError, /malformed variable "v" value: "abc"/);
    expect(() => parseVariableText('v', '99999999999999999999')).to.throw(ScriptRuntimeError, /out of range for type bigint/);
  });
});
