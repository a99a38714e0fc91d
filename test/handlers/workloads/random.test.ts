/**
 * The random functions draw what pgbench draws: every sequence below was printed by pgbench 15
 * (`pgbench -c 1 -t N --random-seed=42`, `\set x debug(...)`), and message 0 of a run with seed 42
 * has pgbench's client 0 generator. A sequence pins the generator, how many draws each function
 * takes (a one-value range takes none), its rejection loop and its arithmetic.
 */
import { expect } from 'chai';
import { evaluate } from '../../../handlers/workloads/script/evaluate';
import { parseExpr } from '../../../handlers/workloads/script/expr';
import type { PgPrng } from '../../../handlers/workloads/script/prng';
import { messageGenerator } from '../../../handlers/workloads/script/seeds';
import { ScriptRuntimeError, textOf } from '../../../handlers/workloads/script/value';

function draw(text: string, rng: PgPrng = messageGenerator(42n, 0)): string | null {
  return textOf(evaluate(parseExpr(text), { lookup: () => { throw new Error('no variables here'); }, rng }));
}

/** `transactions` runs of a script of `\set` commands: each transaction's values, one array per command. */
function sequence(transactions: number, ...exprs: string[]): string[][] {
  const rng = messageGenerator(42n, 0);
  const out = exprs.map((): string[] => []);
  for (let t = 0; t < transactions; t++) exprs.forEach((e, i) => out[i]!.push(draw(e, rng)!));
  return out;
}

const list = (csv: string): string[] => csv.split(',');

describe('script random functions (pgbench 15 draws, --random-seed=42)', () => {
  it('random() draws pgbench\'s values, and a one-value range draws nothing', () => {
    const [same, values] = sequence(30, 'random(5, 5)', 'random(10, 20)');
    expect(same).to.deep.equal(Array(30).fill('5'));
    expect(values).to.deep.equal(list('20,20,10,14,20,14,14,10,11,19,20,14,16,13,17,18,16,12,20,19,16,20,12,20,17,16,11,15,17,16'));
  });

  it('random() over a range wider than 2^32', () => {
    expect(sequence(10, 'random(-1000000000000, 1000000000000)')[0]).to.deep.equal(list(
      '401422734416,794199617960,396405467596,-871127612219,-351659087979,449382664028,-384635064396,-362780393162,-992420787651,560176217484',
    ));
  });

  it('random() at the ends of int64', () => {
    expect(draw('random(0, 9223372036854775806)')).to.equal('5877992980655297398');
    expect(draw('random(9223372036854775806, 9223372036854775807)')).to.equal('9223372036854775807');
    expect(draw('random(-9223372036854775808, -9223372036854775807)')).to.equal('-9223372036854775807');
    expect(draw('random(1.5, 3)')).to.equal('3');
  });

  it('random_gaussian() draws pgbench\'s values, rejecting draws beyond the parameter', () => {
    expect(sequence(60, 'random_gaussian(1, 100, 2.0)')[0]).to.deep.equal(list(
      '83,38,68,31,51,28,82,39,89,60,71,61,27,18,82,52,92,67,28,43,33,72,79,83,31,15,30,71,49,24,'
      + '36,59,60,38,36,75,17,58,38,42,38,69,32,42,43,61,50,54,82,41,77,23,92,27,59,24,18,22,34,91',
    ));
  });

  it('random_gaussian() keeps every draw in its range', () => {
    const draws = sequence(1000, 'random_gaussian(1, 10, 2.0)')[0]!.map(Number);
    expect(Math.min(...draws)).to.equal(1);
    expect(Math.max(...draws)).to.equal(10);
  });

  it('random_exponential() draws pgbench\'s values', () => {
    expect(sequence(30, 'random_exponential(1, 100, 3.0)')[0]).to.deep.equal(list(
      '32,50,31,2,11,33,11,11,1,88,38,4,28,36,12,17,38,46,63,8,22,25,18,57,6,31,28,15,31,7',
    ));
  });

  it('random_zipfian() draws pgbench\'s values, and a one-value range draws nothing', () => {
    const [same, values] = sequence(40, 'random_zipfian(7, 7, 2.0)', 'random_zipfian(1, 3, 1.5)');
    expect(same).to.deep.equal(Array(40).fill('7'));
    expect(values).to.deep.equal(list('2,1,2,1,1,2,2,1,1,1,1,1,1,2,1,1,3,3,2,3,1,1,2,1,1,1,2,3,1,1,1,1,1,1,1,2,2,1,2,1'));
    expect(sequence(30, 'random_zipfian(1, 1000, 1.2)')[0]).to.deep.equal(list(
      '9,582,5,373,1,34,14,10,3,4,44,1,116,1,446,2,69,8,1,3,43,47,548,16,23,10,67,39,20,1',
    ));
  });

  it('accepts the parameters at the ends of their ranges, as pgbench does', () => {
    expect(draw('random_gaussian(1, 10, 2.0)')).to.equal('9');
    expect(draw('random_zipfian(1, 10, 1.001)')).to.equal('1');
    expect(draw('random_zipfian(1, 10, 1000)')).to.equal('1');
    expect(draw('random_exponential(1, 10, 1e-7)')).to.equal('7');
    expect(draw('random_exponential(1, 10, 1e308 * 10)')).to.equal('1');
  });

  const errors: Array<[string, string]> = [
    ['random(10, 1)', 'empty range given to random'],
    ['random(0, 9223372036854775807)', 'random range is too large'],
    ['random(-1, 9223372036854775806)', 'random range is too large'],
    ['random(-9223372036854775808, 9223372036854775807)', 'random range is too large'],
    ['random_gaussian(1, 10, 1.5)', 'gaussian parameter must be at least 2.000000 (not 1.500000)'],
    ['random_zipfian(1, 10, 1.0009)', 'zipfian parameter must be in range [1.001, 1000] (not 1.000900)'],
    ['random_zipfian(1, 10, 1000.5)', 'zipfian parameter must be in range [1.001, 1000] (not 1000.500000)'],
    ['random_exponential(1, 10, 0.0)', 'exponential parameter must be greater than zero (not 0.000000)'],
    ['random_exponential(1, 10, -1)', 'exponential parameter must be greater than zero (not -1.000000)'],
    ['random_exponential(1, 10, 0.0 * -1)', 'exponential parameter must be greater than zero (not -0.000000)'],
  ];
  for (const [text, message] of errors) {
    it(`fails ${text}: ${message} (as pgbench)`, () => {
      expect(() => draw(text)).to.throw(ScriptRuntimeError).with.property('message', message);
    });
  }

  // pgbench lets a NaN parameter through: random_zipfian then never returns (a worker would spin
  // until Lambda killed it), the others cast NaN to int64. Refused here instead.
  const nan: Array<[string, string]> = [
    ['random_zipfian(1, 10, sqrt(-1))', 'zipfian parameter must be in range [1.001, 1000] (not NaN)'],
    ['random_gaussian(1, 10, sqrt(-1))', 'gaussian parameter must be at least 2.000000 (not NaN)'],
    ['random_gaussian(1, 10, 1e308 * 10)', 'gaussian parameter must be finite (not Infinity)'],
    ['random_exponential(1, 10, sqrt(-1))', 'exponential parameter must be greater than zero (not NaN)'],
  ];
  for (const [text, message] of nan) {
    it(`refuses ${text} with one line instead of spinning or drawing garbage`, () => {
      expect(() => draw(text)).to.throw(ScriptRuntimeError).with.property('message', message);
    });
  }
});
