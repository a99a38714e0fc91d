'use strict';
/**
 * Runs the built worker bundle the way Lambda's Node.js runtime does: require the handler module
 * (its module scope builds config, logger, pools and clients), then invoke `handler` with one SQS
 * event. Plain JavaScript, run by plain `node`, so nothing but the bundle is measured.
 *
 * Usage: node worker-harness.cjs <bundle.js>; the message body comes in HARNESS_BODY, the rest of
 * the configuration in the worker's own environment variables. Prints one line starting with
 * "HARNESS " holding JSON: ms from process start to the module loaded and to the message handled
 * (performance.now() counts from the process's time origin), the batch item failures, the peak
 * RSS and the CPU used.
 */
const { randomUUID } = require('node:crypto');

const loadStart = performance.now();
const { handler } = require(process.argv[2]);
const loaded = performance.now();

const now = String(Date.now());
const event = {
  Records: [{
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body: process.env.HARNESS_BODY,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'harness', ApproximateFirstReceiveTimestamp: now },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:harness',
    awsRegion: 'us-east-1',
  }],
};
const deadline = Date.now() + 900_000;
const context = {
  awsRequestId: randomUUID(),
  functionName: 'harness',
  getRemainingTimeInMillis: () => deadline - Date.now(),
};

handler(event, context).then(
  (res) => {
    const handled = performance.now();
    const usage = process.resourceUsage();
    process.stdout.write(`HARNESS ${JSON.stringify({
      loadStartMs: loadStart,
      loadedMs: loaded,
      handledMs: handled,
      failures: res.batchItemFailures.length,
      maxRssKiB: usage.maxRSS,
      cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
    })}\n`, () => process.exit(0));
  },
  (err) => {
    process.stderr.write(`handler threw: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
