/**
 * The gate `npm test` puts in front of every deploy: each workload under workloads/ parses, as the
 * worker and `cdk synth` will parse it. A broken script fails here with one line per problem,
 * `workloads/<name>/<file>:<line>: problem`, the same line `node trigger --workload <name>` prints.
 */
import { expect } from 'chai';
import { isWorkloadName, operationsOf, projectCatalog } from '../../handlers/workloads/project';

describe('workloads/', () => {
  it('every workload parses: scripts, targets and init.sql', () => {
    const problems = projectCatalog().problems.map((p) => p.line);
    if (problems.length) {
      const err = new Error(problems.join('\n'));
      // The lines are the whole report; a stack trace into the test would only hide them.
      err.stack = err.message;
      throw err;
    }
  });

  it('routes the built-in workloads as the seed did: reads on the reader, writes on the writer', () => {
    expect(operationsOf('seed')).to.deep.equal([{ op: 'insert', target: 'writer' }, { op: 'select', target: 'reader' }]);
    expect(operationsOf('tpcb')).to.deep.equal([{ op: 'select-only', target: 'reader' }, { op: 'tpcb', target: 'writer' }]);
  });

  it('knows the workloads of this checkout by name (a saved run of another is reported with every operation)', () => {
    expect([isWorkloadName('tpcb'), isWorkloadName('seed'), isWorkloadName('nope'), isWorkloadName(undefined)]).to.deep.equal([true, true, false, false]);
  });
});
