import { expect } from 'chai';
import { BYO_ARN_CONTEXT, BYO_CONTEXT, CUSTOM_CONTEXT, nagFindings, synthStacks } from './synth';

describe('app: cdk-nag AwsSolutions', () => {
  const variants: Array<[string, Record<string, unknown>]> = [
    ['create mode', {}],
    ['create mode with custom worker settings', CUSTOM_CONTEXT],
    ['bring-your-own mode', BYO_CONTEXT],
    ['bring-your-own mode with a secret ARN and a cluster id', BYO_ARN_CONTEXT],
    ['bring-your-own mode with an RDS-managed secret and its KMS key', {
      ...BYO_CONTEXT, SecretName: 'rds!cluster-0123abcd-4567-89ef-0123-456789abcdef', SecretKmsKey: 'arn:aws:kms:eu-west-1:111111111111:key/0123abcd-4567-89ef-0123-456789abcdef',
    }],
    ['create mode without a NAT gateway (interface endpoints)', { NatGateways: 0 }],
    ['create mode with a NAT gateway and interface endpoints', { InterfaceEndpoints: true }],
    ['create mode with scale to zero and two readers', { ServerlessMinCapacity: 0, ReaderCount: 2 }],
  ];
  for (const [name, context] of variants) {
    it(`leaves no unacknowledged finding in ${name}`, () => {
      expect(nagFindings(synthStacks(context).app)).to.deep.equal([]);
    });
  }
});
