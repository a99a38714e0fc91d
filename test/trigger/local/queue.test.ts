import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { LocalQueue } from '../../../trigger/local/queue';

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('LocalQueue', () => {
  it('hides a received message for the visibility timeout, then delivers it again', () => {
    const clock = manualClock();
    const q = new LocalQueue({ visibilityTimeoutMs: 2_000, now: clock.now });
    const id = q.send('{"v":1}');

    expect(q.receive(10).map((m) => m.messageId)).to.deep.equal([id]);
    expect(q.depth).to.deep.equal({ visible: 0, inFlight: 1 });
    clock.advance(1_999);
    expect(q.receive(10)).to.have.length(0);
    clock.advance(1);
    expect(q.receive(10).map((m) => m.messageId)).to.deep.equal([id]);
  });

  it('increments ApproximateReceiveCount on every receive and keeps the first-receive timestamp', () => {
    const clock = manualClock();
    const q = new LocalQueue({ visibilityTimeoutMs: 1_000, maxReceiveCount: 0, now: clock.now });
    q.send('x');
    const first = q.receive(1)[0]!;
    clock.advance(1_000);
    const second = q.receive(1)[0]!;

    expect([first.attributes.ApproximateReceiveCount, second.attributes.ApproximateReceiveCount]).to.deep.equal(['1', '2']);
    expect(second.attributes.ApproximateFirstReceiveTimestamp).to.equal(first.attributes.ApproximateFirstReceiveTimestamp);
    expect(second.receiptHandle).to.not.equal(first.receiptHandle);
    expect(q.stats.redelivered).to.equal(1);
  });

  it('moves a message to the dead-letter queue on the receive after its maxReceiveCount-th', () => {
    const clock = manualClock();
    const dlq = new LocalQueue({ name: 'dlq', maxReceiveCount: 0, now: clock.now });
    const q = new LocalQueue({ visibilityTimeoutMs: 1_000, maxReceiveCount: 3, deadLetterQueue: dlq, now: clock.now });
    const id = q.send('poison');

    for (let i = 1; i <= 3; i++) {
      expect(q.receive(10), `receive ${i}`).to.have.length(1);
      clock.advance(1_000);
    }
    expect(q.receive(10)).to.have.length(0);
    expect(q.drained()).to.equal(true);
    expect(q.stats.deadLettered).to.equal(1);
    const [moved] = dlq.receive(10);
    expect(moved?.messageId).to.equal(id);
    expect(moved?.body).to.equal('poison');
  });

  it('creates its own dead-letter queue by default and none when maxReceiveCount is 0', () => {
    expect(new LocalQueue({ name: 'work' }).deadLetterQueue?.name).to.equal('work-dlq');
    expect(new LocalQueue({ maxReceiveCount: 0 }).deadLetterQueue).to.equal(undefined);
  });

  it('ignores a delete with a stale receipt handle and honours the latest one', () => {
    const clock = manualClock();
    const q = new LocalQueue({ visibilityTimeoutMs: 1_000, now: clock.now });
    q.send('x');
    const stale = q.receive(1)[0]!.receiptHandle;
    clock.advance(1_000);
    const latest = q.receive(1)[0]!.receiptHandle;

    expect(q.delete(stale)).to.equal(false);
    expect(q.depth.inFlight).to.equal(1);
    expect(q.delete(latest)).to.equal(true);
    expect(q.drained()).to.equal(true);
    expect(q.delete(latest)).to.equal(false);
  });

  it('returns at most 10 messages per receive and rejects asking for more', () => {
    const q = new LocalQueue();
    for (let i = 0; i < 25; i++) q.send(`m${i}`);

    expect(q.receive(10)).to.have.length(10);
    expect(q.receive(3)).to.have.length(3);
    expect(() => q.receive(11)).to.throw(RangeError, /1 to 10/);
    expect(() => q.receive(0)).to.throw(RangeError);
    expect(q.depth).to.deep.equal({ visible: 12, inFlight: 13 });
  });

  it('sends batches of 1 to 10 bodies only, as SendMessageBatch does', () => {
    const q = new LocalQueue();
    expect(q.sendBatch(['a', 'b', 'c'])).to.have.length(3);
    expect(() => q.sendBatch(Array.from({ length: 11 }, (_, i) => `m${i}`))).to.throw(RangeError, /1 to 10/);
    expect(() => q.sendBatch([])).to.throw(RangeError);
    expect(q.stats.sent).to.equal(3);
  });

  it('purges visible and in-flight messages', () => {
    const q = new LocalQueue();
    q.sendBatch(['a', 'b', 'c']);
    q.receive(1);

    expect(q.purge()).to.equal(3);
    expect(q.depth).to.deep.equal({ visible: 0, inFlight: 0 });
    expect(q.drained()).to.equal(true);
    expect(q.receive(10)).to.have.length(0);
  });

  it('makes a message visible at once when its visibility is changed to 0, and rejects stale handles', () => {
    const clock = manualClock();
    const q = new LocalQueue({ visibilityTimeoutMs: 60_000, now: clock.now });
    q.send('x');
    const handle = q.receive(1)[0]!.receiptHandle;

    q.changeVisibility(handle, 0);
    const again = q.receive(1)[0]!;
    expect(again.attributes.ApproximateReceiveCount).to.equal('2');
    expect(() => q.changeVisibility(handle, 1_000)).to.throw(/ReceiptHandleIsInvalid/);
  });

  it('extends a message\'s invisibility with changeVisibility', () => {
    const clock = manualClock();
    const q = new LocalQueue({ visibilityTimeoutMs: 1_000, now: clock.now });
    q.send('x');
    const handle = q.receive(1)[0]!.receiptHandle;

    clock.advance(500);
    q.changeVisibility(handle, 5_000);
    clock.advance(1_000);
    expect(q.receive(1)).to.have.length(0);
    clock.advance(4_000);
    expect(q.receive(1)).to.have.length(1);
  });

  it('gives a received message the SQS attributes: receive count, sent and first-received times, sender', () => {
    const clock = manualClock();
    const q = new LocalQueue({ now: clock.now });
    const sentAt = clock.now();
    q.send('hello');
    clock.advance(250);

    const [m] = q.receive(1);
    expect(m?.attributes).to.deep.equal({
      ApproximateReceiveCount: '1',
      SentTimestamp: String(sentAt),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(sentAt + 250),
    });
    expect(m?.md5OfBody).to.equal(createHash('md5').update('hello').digest('hex'));
  });

  it('rejects empty, non-string and oversize bodies', () => {
    const q = new LocalQueue({ maxMessageBytes: 1_024 });
    expect(() => q.send('')).to.throw(RangeError, /empty/);
    expect(() => q.send(42 as unknown as string)).to.throw(TypeError);
    expect(() => q.send('x'.repeat(1_025))).to.throw(RangeError, /1025 bytes/);
  });

  it('accounts exactly for 20,000 messages when a third of them are redelivered once', () => {
    const clock = manualClock();
    const q = new LocalQueue({ visibilityTimeoutMs: 1_000, now: clock.now });
    const n = 20_000;
    for (let i = 0; i < n; i += 10) q.sendBatch(Array.from({ length: 10 }, (_, j) => `m${i + j}`));
    let deleted = 0;
    for (let round = 0; !q.drained(); round++) {
      for (let batch = q.receive(10); batch.length > 0; batch = q.receive(10)) {
        // Fail every third message once, so a share of the work is redelivered.
        for (const m of batch) if (round > 0 || Number(m.body.slice(1)) % 3 !== 0) deleted += Number(q.delete(m.receiptHandle));
      }
      clock.advance(1_000);
    }

    expect(deleted).to.equal(n);
    expect(q.stats.redelivered).to.equal(Math.ceil(n / 3));
    expect(q.stats.received).to.equal(n + Math.ceil(n / 3));
  });
  it('makes in-flight messages visible again in the order their timeouts end, whatever order they were hidden in', () => {
    const clock = manualClock();
    const q = new LocalQueue({ visibilityTimeoutMs: 3_600_000, maxReceiveCount: 0, now: clock.now });
    for (let i = 0; i < 60; i++) q.send(`m${i}`);
    const received = Array.from({ length: 6 }, () => q.receive(10)).flat();
    // Message i is hidden for (i * 7 mod 60) + 1 seconds from now: a shuffle of 1..60 s.
    const hiddenFor = (body: string): number => ((Number(body.slice(1)) * 7) % 60 + 1) * 1_000;
    for (const m of received) q.changeVisibility(m.receiptHandle, hiddenFor(m.body));
    const order: string[] = [];
    for (let s = 1; s <= 60; s++) {
      clock.advance(1_000);
      const back = q.receive(10);
      expect(back, `after ${s} s`).to.have.length(1);
      for (const m of back) q.delete(m.receiptHandle);
      order.push(...back.map((m) => m.body));
    }
    expect(order).to.deep.equal([...received.map((m) => m.body)].sort((a, b) => hiddenFor(a) - hiddenFor(b)));
  });

  it('delivers a message sent after a receive found the queue empty', () => {
    const q = new LocalQueue();
    expect(q.receive(10)).to.deep.equal([]);
    expect(q.receive(10)).to.deep.equal([]);
    const id = q.send('late');
    expect(q.receive(10).map((m) => m.messageId)).to.deep.equal([id]);
  });

  it('lets the timeout of a deleted message pass without effect, and ignores a missing receipt handle', () => {
    const clock = manualClock();
    const q = new LocalQueue({ visibilityTimeoutMs: 1_000, now: clock.now });
    q.send('a');
    const [m] = q.receive(1);
    expect(q.delete(undefined as unknown as string)).to.equal(false);
    expect(q.delete(m!.receiptHandle)).to.equal(true);
    clock.advance(1_000);
    expect(q.receive(10)).to.deep.equal([]);
    expect(q.depth).to.deep.equal({ visible: 0, inFlight: 0 });
  });

  it('sends a batch of one', () => {
    const q = new LocalQueue();
    expect(q.sendBatch(['a'])).to.have.length(1);
    expect(q.depth.visible).to.equal(1);
  });

  it('delivers thousands of messages first-in-first-out, none lost or repeated', () => {
    const q = new LocalQueue({ maxReceiveCount: 0 });
    const sent = Array.from({ length: 5_000 }, (_, i) => q.send(`m${i}`));
    const got: string[] = [];
    for (let batch = q.receive(10); batch.length; batch = q.receive(10)) got.push(...batch.map((m) => m.messageId));
    expect(got).to.deep.equal(sent);
    expect(q.depth).to.deep.equal({ visible: 0, inFlight: 5_000 });
  });

  it('deletes a message made visible again, so it is never delivered', () => {
    const q = new LocalQueue({ maxReceiveCount: 0 });
    q.send('a');
    const [m] = q.receive(1);
    q.changeVisibility(m!.receiptHandle, 0);
    expect(q.depth).to.deep.equal({ visible: 1, inFlight: 0 });
    expect(q.delete(m!.receiptHandle)).to.equal(true);
    expect(q.depth).to.deep.equal({ visible: 0, inFlight: 0 });
    expect(q.receive(10)).to.deep.equal([]);
  });

  it('refuses to change the visibility of a message whose timeout already ended, as SQS does', () => {
    const clock = manualClock();
    const q = new LocalQueue({ visibilityTimeoutMs: 1_000, now: clock.now });
    const id = q.send('a');
    const [m] = q.receive(1);
    clock.advance(1_000);
    expect(() => q.changeVisibility(m!.receiptHandle, 5_000)).to.throw(Error, `MessageNotInflight: message ${id} is visible again`);
  });

  it('does not count a dead-lettered message as sent to the dead-letter queue', () => {
    const clock = manualClock();
    const q = new LocalQueue({ visibilityTimeoutMs: 1_000, maxReceiveCount: 1, now: clock.now });
    q.send('poison');
    q.receive(1);
    clock.advance(1_000);
    expect(q.receive(1)).to.deep.equal([]);
    expect(q.deadLetterQueue!.stats.sent).to.equal(0);
    expect(q.deadLetterQueue!.depth.visible).to.equal(1);
  });

  it('is named local-queue unless told otherwise', () => {
    expect(new LocalQueue().name).to.equal('local-queue');
    expect(new LocalQueue().deadLetterQueue?.name).to.equal('local-queue-dlq');
  });

  it('takes a batch up to the size limit in total, and refuses one byte more', () => {
    const q = new LocalQueue({ maxMessageBytes: 10 });
    expect(q.sendBatch(['1234', '€€'])).to.have.length(2);
    expect(() => q.sendBatch(['1234', '€€x'])).to.throw(RangeError, 'the batch is 11 bytes; SQS limits a whole batch to 10 bytes');
    expect(q.send('1234567890')).to.be.a('string');
    expect(() => q.send('€€€€')).to.throw(RangeError, "a message body is 12 bytes; the queue's limit (MaximumMessageSize) is 10");
    expect(() => q.send(42 as unknown as string)).to.throw(TypeError, 'a message body must be a string, got number');
  });

  const misconfigured: Array<[string, () => LocalQueue, ErrorConstructor | RangeErrorConstructor, string]> = [
    ['a negative visibility timeout', () => new LocalQueue({ visibilityTimeoutMs: -1 }), RangeError, 'visibilityTimeoutMs must be an integer from 0 to 43200000 ms (12 h), got -1'],
    ['a visibility timeout over 12 h', () => new LocalQueue({ visibilityTimeoutMs: 43_200_001 }), RangeError, 'visibilityTimeoutMs must be an integer from 0 to 43200000 ms (12 h), got 43200001'],
    ['a fractional visibility timeout', () => new LocalQueue({ visibilityTimeoutMs: 1.5 }), RangeError, 'visibilityTimeoutMs must be an integer from 0 to 43200000 ms (12 h), got 1.5'],
    ['a negative maxReceiveCount', () => new LocalQueue({ maxReceiveCount: -1 }), TypeError, 'maxReceiveCount must be a non-negative integer (0 = no dead-letter queue), got -1'],
    ['a fractional maxReceiveCount', () => new LocalQueue({ maxReceiveCount: 1.5 }), TypeError, 'maxReceiveCount must be a non-negative integer (0 = no dead-letter queue), got 1.5'],
    ['a maxMessageBytes of 0', () => new LocalQueue({ maxMessageBytes: 0 }), TypeError, 'maxMessageBytes must be a positive integer, got 0'],
    ['a fractional maxMessageBytes', () => new LocalQueue({ maxMessageBytes: 2.5 }), TypeError, 'maxMessageBytes must be a positive integer, got 2.5'],
    ['a dead-letter queue without redrive', () => new LocalQueue({ maxReceiveCount: 0, deadLetterQueue: new LocalQueue() }), TypeError, 'deadLetterQueue needs maxReceiveCount > 0: without it nothing is ever moved there'],
  ];
  for (const [what, make, type, message] of misconfigured) {
    it(`refuses ${what}, saying what it takes`, () => {
      expect(make).to.throw(type, message);
    });
  }

  it('accepts the bounds themselves: a visibility timeout of 0 or 12 h, maxMessageBytes of 1', () => {
    expect(new LocalQueue({ visibilityTimeoutMs: 0 }).visibilityTimeoutMs).to.equal(0);
    expect(new LocalQueue({ visibilityTimeoutMs: 43_200_000 }).visibilityTimeoutMs).to.equal(43_200_000);
    expect(new LocalQueue({ maxMessageBytes: 1 }).send('x')).to.be.a('string');
    const q = new LocalQueue();
    q.send('a');
    const [m] = q.receive(1);
    expect(() => q.changeVisibility(m!.receiptHandle, 43_200_001)).to.throw(RangeError, 'timeoutMs must be an integer from 0 to 43200000 ms (12 h), got 43200001');
  });
});
