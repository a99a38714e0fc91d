import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { deployedWorkloadFiles, WORKLOADS_GLOBAL } from '../../../handlers/workloads/deployed';
import { readWorkloadFiles } from '../../../handlers/workloads/files';

describe('workload files: read from a folder, or carried by the worker bundle', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'workload-files-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every <workload>/<script>.sql and nothing else in workloads/', () => {
    const workloads = path.join(dir, 'workloads');
    for (const d of ['shop', 'shop/old.sql', '.git']) mkdirSync(path.join(workloads, d), { recursive: true });
    const files: Record<string, string> = {
      'shop/lookup.sql': 'SELECT 1;\n',
      'shop/init.sql': 'CREATE TABLE IF NOT EXISTS item (id int);\n',
      'shop/README.md': '# shop\n',
      'shop/old.sql/x.sql': 'SELECT 2;\n',
      '.git/HEAD.sql': 'not a workload\n',
      'notes.sql': 'not in a workload folder\n',
    };
    for (const [rel, text] of Object.entries(files)) writeFileSync(path.join(workloads, rel), text);
    expect(readWorkloadFiles(workloads)).to.deep.equal({ 'shop/init.sql': files['shop/init.sql'], 'shop/lookup.sql': files['shop/lookup.sql'] });
  });

  it('reads no workload from a folder that does not exist', () => {
    expect(readWorkloadFiles(path.join(dir, 'missing'))).to.deep.equal({});
  });

  it('runs the files a bundle carries, and says how to build one when it carries none', () => {
    const global = globalThis as Record<string, unknown>;
    expect(() => deployedWorkloadFiles()).to.throw('this worker bundle carries no workloads: build it with app/load/worker-bundling.ts (npm run build, or cdk synth)');
    const carried = { 'shop/lookup.sql': 'SELECT 1;\n' };
    // What the bundler's injected module defines (app/load/worker-bundling.ts).
    global[WORKLOADS_GLOBAL] = carried;
    try {
      expect(deployedWorkloadFiles()).to.equal(carried);
    } finally {
      delete global[WORKLOADS_GLOBAL];
    }
  });
});
