import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { expect } from 'chai';
import { main } from '../../trigger/cli';
import { SilentEndpoint } from '../helpers/silent-endpoint';
import { unstubbed } from '../helpers/unstubbed';
import { captureIo } from './helpers/capture-io';

/**
 * The trigger against an AWS endpoint that accepts connections and never answers (AWS_ENDPOINT_URL):
 * it must give up with one line and exit 2, not hang (without the clients' timeouts this test
 * hangs until mocha's own timeout fails it).
 */
describe('trigger: an AWS endpoint that never answers', function () {
  this.timeout(90_000);
  const env = { ...process.env };
  let endpoint: SilentEndpoint;

  before(async () => {
    unstubbed(CloudFormationClient);
    endpoint = await SilentEndpoint.start();
    Object.assign(process.env, { AWS_ENDPOINT_URL: endpoint.url, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example' });
  });
  after(async () => {
    process.env = env;
    await endpoint?.close();
  });

  it('ends the stack lookup with a one-line error and exit 2', async () => {
    const io = captureIo();
    expect(await main(['--reader', '--region', 'eu-west-1'], io)).to.equal(2);
    expect(io.stderr.at(-1)).to.match(/^error: .*AWS is not reachable from here \(no network\?\)/);
  });
});
