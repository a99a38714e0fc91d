import { expect } from 'chai';
import { InvalidMessageError, parseMessage } from '../../handlers/protocol/message';
import { LIMITS } from '../../handlers/protocol/limits';

const NOW = 1_800_000_000_000;
const base = { v: 1, runId: 'r1', seq: 0, sentAt: NOW, workload: 'seed' };
const statements = { ...base, kind: 'statements', op: 'insert', count: 5 };
const slice = { ...base, kind: 'slice', mix: [{ op: 'select', weight: 80 }, { op: 'insert', weight: 20 }], rate: 100, durationMs: 10_000, startAt: NOW + 2000 };

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

  it('accepts a slice message and an init message', () => {
    expect(parseMessage(JSON.stringify(slice), NOW).kind).to.equal('slice');
    expect(parseMessage(JSON.stringify({ ...base, kind: 'init', workload: 'tpcb', scale: 2 }), NOW)).to.include({ kind: 'init', scale: 2 });
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ['malformed JSON', '{"v":1,', /not JSON/],
    ['a JSON array', '[1,2]', /JSON object/],
    ['a wrong version', { ...statements, v: 2 }, /version 2/],
    ['an unknown kind', { ...statements, kind: 'explode' }, /unknown kind "explode"/],
    ['an unknown workload', { ...statements, workload: 'tpcc' }, /unknown workload "tpcc"/],
    ['an unknown op', { ...statements, op: 'drop' }, /unknown op "drop" for workload seed/],
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
    ['an oversize body', { ...statements, pad: 'x'.repeat(LIMITS.maxBodyBytes) }, /over the 8192-byte limit/],
    ['a bad target', { ...statements, target: 'primary' }, /"target" must be "reader" or "writer"/],
  ];
  for (const [what, body, expected] of cases) {
    it(`refuses ${what} with a one-line reason`, () => {
      expect(reason(body)).to.match(expected);
    });
  }
});
