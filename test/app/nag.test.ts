import { expect } from 'chai';
import { BYO_ARN_CONTEXT, BYO_CONTEXT, CUSTOM_CONTEXT, nagFindings, synthStacks } from './synth';

describe('app: cdk-nag AwsSolutions', () => {
  const variants: Array<[string, Record<string, unknown>]> = [
    ['create mode', {}],
    ['create mode with custom worker settings', CUSTOM_CONTEXT],
    ['bring-your-own mode', BYO_CONTEXT],
    ['bring-your-own mode with a secret ARN and a cluster id', BYO_ARN_CONTEXT],
  ];
  for (const [name, context] of variants) {
    it(`leaves no unacknowledged finding in ${name}`, () => {
      expect(nagFindings(synthStacks(context).app)).to.deep.equal([]);
    });
  }
});
