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
});
