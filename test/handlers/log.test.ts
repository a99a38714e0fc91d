import { expect } from 'chai';
import { createLogger } from '../../handlers/log';

function capture(level?: 'debug' | 'info' | 'warn' | 'error') {
  const lines: string[] = [];
  const logger = createLogger({ write: (line: string) => { lines.push(line); } }, level);
  return { logger, lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('worker log: JSON lines', () => {
  it('writes one JSON line per entry: level label, epoch-ms time, the fields, then the message', () => {
    const { logger, lines, entries } = capture();
    const before = Date.now();
    logger.warn({ runId: 'r1', seq: 3 }, 'message failed');
    expect(lines).to.have.length(1);
    expect(lines[0]!.endsWith('}\n')).to.equal(true);
    const [entry] = entries();
    expect(Object.keys(entry!)).to.deep.equal(['level', 'time', 'runId', 'seq', 'msg']);
    expect(entry).to.include({ level: 'warn', runId: 'r1', seq: 3, msg: 'message failed' });
    expect(entry!.time).to.be.within(before, Date.now());
  });

  it('carries a child logger\'s bindings on each of its lines, and not on its parent\'s', () => {
    const { logger, entries } = capture();
    logger.child({ requestId: 'req-1' }).info({ kind: 'slice' }, 'ran');
    logger.info({}, 'parent');
    expect(entries()[0]).to.include({ requestId: 'req-1', kind: 'slice', msg: 'ran' });
    expect(entries()[1]).not.to.have.property('requestId');
  });

  it('leaves out the entries below its level (debug, by default)', () => {
    const { logger, entries } = capture();
    logger.debug({}, 'hidden');
    logger.error({}, 'shown');
    expect(entries().map((e) => e.msg)).to.deep.equal(['shown']);
    const verbose = capture('debug');
    verbose.logger.debug({}, 'shown too');
    expect(verbose.entries().map((e) => e.level)).to.deep.equal(['debug']);
  });

  it('writes a password, a secret or a SecretString as [redacted], at the top or one level down, without changing the caller\'s object', () => {
    const { logger, lines, entries } = capture();
    const fields = { password: 'hunter2', db: { user: 'app', password: 'hunter3' }, out: { SecretString: '{"password":"hunter4"}' }, secret: 's' };
    logger.child({ creds: { password: 'hunter5' } }).error(fields, 'oops');
    expect(lines.join('')).not.to.match(/hunter|"s"/);
    expect(entries()[0]).to.deep.include({ password: '[redacted]', secret: '[redacted]', db: { user: 'app', password: '[redacted]' }, out: { SecretString: '[redacted]' }, creds: { password: '[redacted]' } });
    expect(fields.db.password).to.equal('hunter3');
  });

  it('writes an error\'s name, message and stack, a bigint as a number, and a cycle without throwing', () => {
    const { logger, entries } = capture();
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    logger.warn({ err: new RangeError('too far'), n: 12n, cycle }, 'odd values');
    const [entry] = entries();
    expect(entry!.err).to.include({ type: 'RangeError', message: 'too far' });
    expect((entry!.err as { stack: string }).stack).to.include('too far');
    expect(entry).to.deep.include({ n: 12, cycle: { a: 1, self: '[Circular]' } });
  });
});
