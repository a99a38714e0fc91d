import type { SQSRecord } from 'aws-lambda';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { AWS_CLIENT_CONFIG } from '../../handlers/config';
import { credentialProvider } from '../../handlers/db/credentials';
import { CloudWatchSink } from '../../handlers/metrics/cloudwatch-sink';
import { SqsRedelivery } from '../../handlers/redelivery';
import { SilentEndpoint } from '../helpers/silent-endpoint';
import { unstubbed } from '../helpers/unstubbed';

/**
 * The worker's AWS clients, built exactly as the worker builds them, against an endpoint that
 * accepts connections and never answers: each call must end with the SDK's timeout error instead
 * of stalling (without timeouts these tests hang until mocha's own timeout fails them).
 */
describe('worker: AWS calls to an endpoint that never answers fail with a timeout', function () {
  this.timeout(90_000);
  const env = { ...process.env };
  let endpoint: SilentEndpoint;
  // Started together in before(): each takes a few attempts of a few seconds.
  let secret: Promise<unknown>;
  let metrics: Promise<unknown>;
  let redelivery: Promise<string[]>;

  before(async () => {
    unstubbed(SecretsManagerClient, CloudWatchClient, SQSClient);
    endpoint = await SilentEndpoint.start();
    Object.assign(process.env, { AWS_ENDPOINT_URL: endpoint.url, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example' });
    const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
    secret = failure(credentialProvider({ kind: 'secretsManager', secretId: 'loadtest/aurora' }).get());
    // As the worker publishes, bounded by its deadline (here 8 s away); the SDK's 5 s request timeout ends the one attempt.
    metrics = failure(new CloudWatchSink('Test').publish({ at: Date.now(), series: [], messages: [{ runId: 'r', ok: 1, failed: 0, invalid: 0, dwell: { count: 0 } }] } as never, { by: Date.now() + 8_000 }));
    const warnings: string[] = [];
    const record = { eventSourceARN: 'arn:aws:sqs:eu-west-1:111111111111:LoadTest-Load-Queue', receiptHandle: 'rh' } as SQSRecord;
    // The SQS client sends to the queue URL's host, not AWS_ENDPOINT_URL: this one client is built
    // here, with the worker's options, and pointed at the endpoint.
    const sqs = new SQSClient({ ...AWS_CLIENT_CONFIG, endpoint: endpoint.url, useQueueUrlAsEndpoint: false });
    redelivery = new SqsRedelivery({ warn: (o: object) => { warnings.push(JSON.stringify(o)); } }, sqs).retry([{ record, delaySeconds: 0 }]).then(() => warnings);
  });

  after(async () => {
    process.env = env;
    await endpoint?.close();
  });

  it('the secret read, with the secret named and the timeout as the reason', async () => {
    expect(((await secret) as Error).message).to.match(/^cannot read secret loadtest\/aurora: TimeoutError: /);
  });

  it('PutMetricData, by the SDK\'s request timeout, and not sent again: CloudWatch may have stored it', async () => {
    expect(((await metrics) as Error).name).to.equal('PublishError');
    expect(((await metrics) as Error).message).to.match(/^PutMetricData failed after 1 attempt\(s\), not sent again: CloudWatch may have stored it: TimeoutError: .*exceeded the configured 5000 ms requestTimeout/);
  });

  it('ChangeMessageVisibilityBatch, which the worker logs and lets go (the queue\'s own timeout still applies)', async () => {
    expect(await redelivery).to.have.length(1);
    expect((await redelivery)[0]).to.match(/requestTimeout/);
  });
});
