import { expect } from 'chai';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchSink, MAX_DATUMS_PER_REQUEST, MAX_VALUES_PER_DATUM, toDatums, toRequests } from '../../handlers/metrics/cloudwatch-sink';
import { Collector, recordError, recordSuccess } from '../../handlers/metrics/collector';

function invocation(statements: number) {
  const c = new Collector();
  const s = c.op('run-1', 'seed', 'select', 'reader');
  for (let i = 0; i < statements; i++) recordSuccess(s, 0.5 + i * 0.01, 'standby');
  recordError(s, '08');
  recordError(s, '08');
  c.run('run-1').dwell.record(12);
  c.run('run-1').ok = 3;
  return c.finish(1_800_000_000_000);
}

describe('metrics: CloudWatch sink', () => {
  it('publishes one invocation with a single PutMetricData call carrying Values/Counts, not one per statement', async () => {
    const cw = mockClient(CloudWatchClient);
    cw.on(PutMetricDataCommand).resolves({});
    await new CloudWatchSink('Test', new CloudWatchClient({ region: 'us-east-1' })).publish(invocation(5000));
    expect(cw.commandCalls(PutMetricDataCommand)).to.have.length(1);
    const input = cw.commandCalls(PutMetricDataCommand)[0]!.args[0].input;
    const latency = input.MetricData!.filter((d) => d.MetricName === 'Latency');
    const counted = latency.flatMap((d) => d.Counts!).reduce((a, b) => a + b, 0);
    expect(counted).to.equal(5000);
    expect(latency.every((d) => d.Values!.length <= MAX_VALUES_PER_DATUM && d.StorageResolution === 1)).to.equal(true);
    cw.restore();
  });

  it('counts errors by SQLSTATE class and reads by the server that answered', () => {
    const datums = toDatums(invocation(3));
    const errors = datums.find((d) => d.MetricName === 'Errors')!;
    expect(errors.Value).to.equal(2);
    expect(errors.Dimensions).to.deep.include({ Name: 'ErrorClass', Value: '08' });
    const answered = datums.find((d) => d.MetricName === 'Answered')!;
    expect(answered.Value).to.equal(3);
    expect(answered.Dimensions).to.deep.include({ Name: 'Server', Value: 'standby' });
  });

  it('splits into as few requests as the 1,000-datum limit allows', () => {
    const datums = Array.from({ length: 2500 }, (_, i) => ({ MetricName: 'Errors', Value: i }));
    const requests = toRequests('Test', datums);
    expect(requests.map((r) => r.MetricData!.length)).to.deep.equal([MAX_DATUMS_PER_REQUEST, MAX_DATUMS_PER_REQUEST, 500]);
  });
});
