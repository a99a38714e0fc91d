import { expect } from 'chai';
import { InvalidMessageError, parseMessage } from '../../handlers/protocol/message';
import { LIMITS } from '../../handlers/protocol/limits';

const NOW = 1_800_000_000_000;
const base = { v: 1, runId: 'r1', seq: 0, sentAt: NOW, workload: 'seed' };
const HASH = '0123456789abcdef';
const statements = { ...base, kind: 'statements', op: 'insert', hash: HASH, count: 5 };
const slice = { ...base, kind: 'slice', mix: [{ op: 'select', weight: 80, hash: HASH }, { op: 'insert', weight: 20, hash: HASH }], rate: 100, durationMs: 10_000, startAt: NOW + 2000 };

/**
 * A valid statements message whose body is exactly `bytes` bytes of UTF-8: its -D variables carry
 * "€" (3 bytes, 1 character) and "x", each value within the 256-character limit.
 */
function statementsOfBytes(bytes: number): string {
  const names = Array.from({ length: LIMITS.maxVariables }, (_, i) => `v${String(i).padStart(2, '0')}`);
  const overhead = Buffer.byteLength(JSON.stringify({ ...statements, vars: Object.fromEntries(names.map((n) => [n, ''])) }));
  let left = bytes - overhead;
  const vars = Object.fromEntries(names.map((n) => {
    const chunk = Math.min(left, 254 * 3 + 2);
    left -= chunk;
    return [n, '€'.repeat(Math.floor(chunk / 3)) + 'x'.repeat(chunk % 3)];
  }));
  if (left !== 0) throw new Error(`cannot build a valid message of ${bytes} bytes`);
  const text = JSON.stringify({ ...statements, vars });
  expect(Buffer.byteLength(text)).to.equal(bytes);
  return text;
}

function reason(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  try {
    parseMessage(text, NOW);
  } catch (err) {
    expect(err).to.be.instanceOf(InvalidMessageError);
    const message = (err as Error).message;
    expect(message, 'one line').not.to.include('\n');
    return message;
  }
  throw new Error('expected the message to be refused');
}

describe('protocol: message validation', () => {
  it('accepts a statements message and keeps its fields', () => {
    const m = parseMessage(JSON.stringify(statements), NOW);
    expect(m).to.deep.equal(statements);
  });

  it('keeps a message\'s script options: -D variables, client id, random seed', () => {
    const options = { vars: { minprice: '10', name: 'x y' }, clientId: 3, randomSeed: '18446744073709551615' };
    expect(parseMessage(JSON.stringify({ ...slice, ...options }), NOW)).to.deep.include(options);
  });

  it('accepts a slice message and an init message', () => {
    expect(parseMessage(JSON.stringify(slice), NOW).kind).to.equal('slice');
    expect(parseMessage(JSON.stringify({ ...base, kind: 'init', workload: 'tpcb', scale: 2 }), NOW)).to.include({ kind: 'init', scale: 2 });
  });

  it('accepts a valid message of exactly the body limit, counted in bytes of UTF-8 (not characters)', () => {
    const body = statementsOfBytes(LIMITS.maxBodyBytes);
    expect(body.length, 'characters').to.be.below(LIMITS.maxBodyBytes / 2);
    expect(parseMessage(body, NOW)).to.include({ kind: 'statements', op: 'insert' });
  });

  it('refuses a message one byte over the body limit for its size alone, with a one-line reason', () => {
    expect(reason(statementsOfBytes(LIMITS.maxBodyBytes + 1))).to.equal('body is 8193 bytes, over the 8192-byte limit');
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ['malformed JSON', '{"v":1,', /not JSON/],
    ['a JSON array', '[1,2]', /JSON object/],
    ['a wrong version', { ...statements, v: 2 }, /version 2/],
    ['an unknown kind', { ...statements, kind: 'explode' }, /unknown kind "explode"/],
    ['a workload that is no workload name', { ...statements, workload: '../etc' }, /"workload" must be a workload name/],
    ['a script that is no script name', { ...statements, op: 'DROP TABLE' }, /"op" must be a script name/],
    ['a statements message without its script\'s hash', { ...statements, hash: undefined }, /"hash" must be a script's content hash/],
    ['a mix entry without its script\'s hash', { ...slice, mix: [{ op: 'select', weight: 1 }] }, /"mix\[0\].hash"/],
    ['a mix naming a script twice', { ...slice, mix: [slice.mix[0], slice.mix[0]] }, /names a script twice/],
    ['a variable with a bad name', { ...statements, vars: { '1x': 'a' } }, /"vars": "1x" is not a variable name/],
    ['a variable that is not a string', { ...statements, vars: { x: 1 } }, /"vars.x" must be a string/],
    ['an oversize variable', { ...statements, vars: { x: 'y'.repeat(LIMITS.maxVariableLength + 1) } }, /"vars.x" is 257 characters/],
    ['too many variables', { ...statements, vars: Object.fromEntries(Array.from({ length: LIMITS.maxVariables + 1 }, (_, i) => [`v${i}`, '1'])) }, /at most 16/],
    ['a random seed over 64 bits', { ...statements, randomSeed: '18446744073709551616' }, /"randomSeed" must be an unsigned 64-bit integer/],
    ['a negative client id', { ...statements, clientId: -1 }, /"clientId" must be between 0/],
    ['a count of zero', { ...statements, count: 0 }, /"count" must be between 1 and/],
    ['a count over the bound', { ...statements, count: LIMITS.maxCount + 1 }, /"count" must be between/],
    ['a fractional count', { ...statements, count: 1.5 }, /"count" must be an integer/],
    ['a rate of zero', { ...slice, rate: 0 }, /"rate" must be > 0/],
    ['a rate over the bound', { ...slice, rate: LIMITS.maxRate * 2 }, /"rate" must be > 0 and <= 5000/],
    ['a duration over the bound', { ...slice, durationMs: LIMITS.maxDurationMs + 1 }, /"durationMs"/],
    ['a start too far ahead', { ...slice, startAt: NOW + 2 * 3600_000 }, /"startAt"/],
    ['an empty mix', { ...slice, mix: [] }, /"mix" must be a list/],
    ['a bad run id', { ...statements, runId: 'a b;drop' }, /"runId"/],
    ['an unknown field', { ...statements, sql: 'DROP TABLE type' }, /unknown field "sql"/],
    ['a host that is not a host name', { ...statements, hosts: { writer: 'http://evil/' } }, /not a host name/],
    ['a bad target', { ...statements, target: 'primary' }, /"target" must be "reader" or "writer"/],
  ];
  for (const [what, body, expected] of cases) {
    it(`refuses ${what} with a one-line reason`, () => {
      expect(reason(body)).to.match(expected);
    });
  }

  // What the sender reads in the worker's log for each mistake: the field, what it must be, and
  // what was sent (long strings cut at 40 characters).
  const init = { ...base, kind: 'init' };
  const probe = { ...base, kind: 'probe', durationMs: 10_000, startAt: NOW };
  const long = 'x'.repeat(41);
  const exact: Array<[string, unknown, string]> = [
    ['a body that is not JSON', 'nope', 'body is not JSON (Unexpected token \'o\', "nope" is not valid JSON)'],
    ['null', 'null', 'message must be a JSON object, got null'],
    ['an unknown kind', { ...base, kind: 'stats' }, 'unknown kind "stats" (known: statements, slice, init, probe)'],
    ['no kind', { ...base }, 'unknown kind nothing (known: statements, slice, init, probe)'],
    ['a run id that is not a string', { ...statements, runId: 7 }, '"runId" must be 1-64 letters, digits, ".", "_" or "-", got 7'],
    ['a sequence number that is not an integer', { ...statements, seq: 1.5 }, '"seq" must be an integer, got 1.5'],
    ['a sent time over 5 minutes ahead', { ...statements, sentAt: NOW + 300_001 }, `"sentAt" must be between 0 and ${NOW + 300_000}, got ${NOW + 300_001}`],
    ['a workload that is not a name', { ...statements, workload: 'Seed!' }, '"workload" must be a workload name (lowercase letters, digits, "-", "_"), got "Seed!"'],
    ['an op of 41 characters', { ...statements, op: `${long}!` }, `"op" must be a script name (lowercase letters, digits, "-", "_"), got "${'x'.repeat(40)}..."`],
    ['an op of 40 characters that is not a name', { ...statements, op: `${'x'.repeat(39)}!` }, `"op" must be a script name (lowercase letters, digits, "-", "_"), got "${'x'.repeat(39)}!"`],
    ['a hash that is not a string', { ...statements, hash: 12 }, '"hash" must be a script\'s content hash (16 hex digits), got 12'],
    ['a count that is an object', { ...statements, count: {} }, '"count" must be an integer, got an object'],
    ['a count that is an array', { ...statements, count: [] }, '"count" must be an integer, got an array'],
    ['a count that is true', { ...statements, count: true }, '"count" must be an integer, got true'],
    ['a target that is not a string', { ...statements, target: 1 }, '"target" must be "reader" or "writer", got 1'],
    ['vars that are a list', { ...statements, vars: ['a'] }, '"vars" must be an object of name: "value" strings, got an array'],
    ['vars that are null', { ...statements, vars: null }, '"vars" must be an object of name: "value" strings, got null'],
    ['a variable name of 41 characters that is not a name', { ...statements, vars: { [`1${long}`]: 'v' } }, `"vars": "1${'x'.repeat(39)}" is not a variable name (letters, digits, _; not starting with a digit)`],
    ['a variable with a NUL', { ...statements, vars: { a: 'x\u0000y' } }, '"vars.a" contains a NUL character'],
    ['a variable that is a number', { ...statements, vars: { a: 1 } }, '"vars.a" must be a string, got 1'],
    ['17 variables', { ...statements, vars: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`v${i}`, ''])) }, '"vars" has 17 variables; at most 16'],
    ['a random seed that is a number', { ...statements, randomSeed: 5 }, '"randomSeed" must be an unsigned 64-bit integer in decimal, as a string, got 5'],
    ['a random seed that is not decimal', { ...statements, randomSeed: '0x5' }, '"randomSeed" must be an unsigned 64-bit integer in decimal, as a string, got "0x5"'],
    ['a random seed of 2^64', { ...statements, randomSeed: '18446744073709551616' }, '"randomSeed" must be an unsigned 64-bit integer in decimal, as a string, got "18446744073709551616"'],
    ['a client id over the bound', { ...statements, clientId: LIMITS.maxClientId + 1 }, `"clientId" must be between 0 and ${LIMITS.maxClientId}, got ${LIMITS.maxClientId + 1}`],
    ['hosts that are a string', { ...statements, hosts: 'db' }, '"hosts" must be an object like {"reader":"host"}, got "db"'],
    ['hosts with another key', { ...statements, hosts: { primary: 'db' } }, '"hosts": unknown field "primary"'],
    ['a reader host that is a number', { ...slice, hosts: { reader: 5 } }, '"hosts.reader" is not a host name: 5'],
    ['a mix of nine entries', { ...slice, mix: Array.from({ length: 9 }, (_, i) => ({ op: `s${i}`, weight: 1, hash: HASH })) }, '"mix" must be a list of 1-8 {op, weight, hash} entries'],
    ['a mix that is an object', { ...slice, mix: { op: 'select' } }, '"mix" must be a list of 1-8 {op, weight, hash} entries'],
    ['a mix entry that is a string', { ...slice, mix: ['select'] }, '"mix[0]" must be an object like {"op":"select","weight":80,"hash":"0123456789abcdef"}'],
    ['a mix entry with another field', { ...slice, mix: [{ op: 'select', weight: 1, hash: HASH, sql: 'x' }] }, '"mix[0]": unknown field "sql"'],
    ['a mix entry\'s bad op', { ...slice, mix: [{ op: 'Select', weight: 1, hash: HASH }] }, '"mix[0].op" must be a script name (lowercase letters, digits, "-", "_"), got "Select"'],
    ['a mix entry\'s bad hash', { ...slice, mix: [{ op: 'select', weight: 1, hash: 'abc' }] }, '"mix[0].hash" must be a script\'s content hash (16 hex digits), got "abc"'],
    ['a weight that is not a number', { ...slice, mix: [{ op: 'select', weight: '1', hash: HASH }] }, '"weight" must be a number, got "1"'],
    ['an infinite weight', JSON.stringify({ ...slice, mix: [{ op: 'select', weight: 0.5, hash: HASH }] }).replace('0.5', '1e999'), '"weight" must be a number, got Infinity'],
    ['a weight over the bound', { ...slice, mix: [{ op: 'select', weight: 1_000_001, hash: HASH }] }, '"weight" must be > 0 and <= 1000000, got 1000001'],
    ['a slice with another field', { ...slice, count: 1 }, 'slice message: unknown field "count"'],
    ['a ramp without its start rate', { ...slice, rampMs: 1000 }, '"startRate" and "rampMs" go together: a ramp needs both'],
    ['a start rate that is not a number', { ...slice, rampMs: 1000, startRate: '5' }, '"startRate" must be a number, got "5"'],
    ['an infinite start rate', JSON.stringify({ ...slice, rampMs: 1000, startRate: 0.5 }).replace('0.5', '1e999'), '"startRate" must be a number, got Infinity'],
    ['a workload that is a number', { ...statements, workload: 5 }, '"workload" must be a workload name (lowercase letters, digits, "-", "_"), got 5'],
    ['an op that is a number', { ...statements, op: 7 }, '"op" must be a script name (lowercase letters, digits, "-", "_"), got 7'],
    ['a hash that is a number of 16 digits', { ...statements, hash: 1234567890123456 }, '"hash" must be a script\'s content hash (16 hex digits), got 1234567890123456'],
    ['a statements message with another field', { ...statements, rate: 5 }, 'statements message: unknown field "rate"'],
    ['a start rate below zero', { ...slice, rampMs: 1000, startRate: -1 }, '"startRate" must be between 0 and "rate" (100), got -1'],
    ['a start rate over the rate', { ...slice, rampMs: 1000, startRate: 101 }, '"startRate" must be between 0 and "rate" (100), got 101'],
    ['a probe with another field', { ...probe, mix: [] }, 'probe message: unknown field "mix"'],
    ['a probe interval under the bound', { ...probe, intervalMs: 0 }, /^"intervalMs" must be between \d+ and \d+, got 0$/.source],
    ['an init with another field', { ...init, count: 1 }, 'init message: unknown field "count"'],
    ['an init scale of 0', { ...init, scale: 0 }, `"scale" must be between 1 and ${LIMITS.maxScale}, got 0`],
    ['an init reset that is not a boolean', { ...init, reset: 'yes' }, '"reset" must be true or false, got "yes"'],
    ['an init hash that is not a hash', { ...init, hash: 'abc' }, '"hash" must be a script\'s content hash (16 hex digits), got "abc"'],
  ];
  for (const [what, body, expected] of exact) {
    it(`says exactly what is wrong with ${what}`, () => {
      if (expected.startsWith('^')) expect(reason(body)).to.match(new RegExp(expected));
      else expect(reason(body)).to.equal(expected);
    });
  }

  it('accepts each bound at its edge: a full mix, a start rate of 0 or of the rate, a sent time 5 minutes ahead, the largest seed', () => {
    const mix = Array.from({ length: LIMITS.maxMixEntries }, (_, i) => ({ op: `s${i}`, weight: 1_000_000, hash: HASH }));
    expect(parseMessage(JSON.stringify({ ...slice, mix }), NOW)).to.deep.include({ mix });
    expect(parseMessage(JSON.stringify({ ...slice, rampMs: 1000, startRate: 0 }), NOW)).to.include({ rampMs: 1000, startRate: 0 });
    expect(parseMessage(JSON.stringify({ ...slice, rampMs: 1000, startRate: 100 }), NOW)).to.include({ startRate: 100 });
    expect(parseMessage(JSON.stringify({ ...statements, sentAt: NOW + 300_000 }), NOW)).to.include({ sentAt: NOW + 300_000 });
    expect(parseMessage(JSON.stringify({ ...statements, randomSeed: '18446744073709551615', clientId: 0, vars: { x: '' } }), NOW)).to.include({ randomSeed: '18446744073709551615', clientId: 0 });
  });

  it('keeps the optional fields it was given, and adds none it was not', () => {
    const slicePlus = { ...slice, lateLimitMs: 250, hosts: { reader: 'replica-1.example.com', writer: 'primary.example.com:5433' } };
    expect(parseMessage(JSON.stringify(slicePlus), NOW)).to.deep.equal(slicePlus);
    expect(parseMessage(JSON.stringify(slice), NOW)).to.deep.equal(slice);
    const withTarget = { ...statements, target: 'reader', hosts: { reader: 'replica-1.example.com' } };
    expect(parseMessage(JSON.stringify(withTarget), NOW)).to.deep.equal(withTarget);
    const probePlus = { ...probe, intervalMs: 1000, hosts: { writer: 'primary.example.com' } };
    expect(parseMessage(JSON.stringify(probePlus), NOW)).to.deep.equal(probePlus);
    expect(parseMessage(JSON.stringify(probe), NOW)).to.deep.equal(probe);
    const initPlus = { ...init, scale: 3, reset: true, hash: HASH };
    expect(parseMessage(JSON.stringify(initPlus), NOW)).to.deep.equal(initPlus);
    expect(parseMessage(JSON.stringify({ ...init, reset: false }), NOW)).to.deep.equal(init);
  });

  it('takes a statements message aimed at either target', () => {
    expect(parseMessage(JSON.stringify({ ...statements, target: 'reader' }), NOW)).to.include({ target: 'reader' });
    expect(parseMessage(JSON.stringify({ ...statements, target: 'writer' }), NOW)).to.include({ target: 'writer' });
  });

  it('reads host names case-insensitively, as DNS does', () => {
    expect(parseMessage(JSON.stringify({ ...statements, hosts: { writer: 'Primary.Example.COM' } }), NOW)).to.deep.include({ hosts: { writer: 'primary.example.com' } });
  });

  it('names its error InvalidMessageError, so a log says which kind of failure it was', () => {
    expect(() => parseMessage('[]', NOW)).to.throw(InvalidMessageError).with.property('name', 'InvalidMessageError');
  });
});
