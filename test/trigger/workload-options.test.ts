import { expect } from 'chai';
import { buildCatalog } from '../../handlers/workloads/catalog';
import { UsageError } from '../../trigger/errors';
import { listWorkloads, workloadsCommand } from '../../trigger/commands/workloads';
import { parseDefines } from '../../trigger/options/defines';
import { parseMix } from '../../trigger/options/mix';
import { resolveRunOptions } from '../../trigger/options/run-options';
import { captureIo } from './helpers/capture-io';

const SHOP = buildCatalog({
  'shop/init.sql': 'CREATE TABLE IF NOT EXISTS item (id int PRIMARY KEY, stock int);',
  'shop/lookup.sql': '\\set id random_zipfian(1, 10000, 1.1)\nSELECT * FROM item WHERE id = :id;',
  'shop/buy.sql': '\\set id random(1, :maxid)\nUPDATE item SET stock = stock - 1 WHERE id = :id;',
  'broken/x.sql': 'SELECT 1;\n\\shell ls',
});
const BOTH = new Set(['read', 'write'] as const);

describe('trigger: workloads, --mix by script name, -D', () => {
  it('weighs a workload\'s scripts by name', () => {
    expect(parseMix('lookup=80,buy=20', 'shop', BOTH, true, SHOP)).to.deep.equal([{ op: 'lookup', weight: 80 }, { op: 'buy', weight: 20 }]);
  });

  it('reads read= and write= as the workload\'s reader and writer script', () => {
    expect(parseMix('read=3,write=1', 'shop', BOTH, false, SHOP)).to.deep.equal([{ op: 'lookup', weight: 3 }, { op: 'buy', weight: 1 }]);
  });

  it('refuses a script the workload does not have, naming the ones it has', () => {
    expect(() => parseMix('search=1', 'shop', BOTH, true, SHOP)).to.throw(UsageError, /"search", which is neither read, write nor a script of shop \(buy on the writer, lookup on the reader\)/);
  });

  it('refuses a script whose endpoint was not asked for, naming the flag that would', () => {
    expect(() => parseMix('buy=1', 'shop', new Set(['read'] as const), true, SHOP)).to.throw(UsageError, '--mix gives buy (write) weight 1 but --writer was not given: add --writer, or drop buy from --mix');
    expect(() => parseMix('lookup=1', 'shop', new Set(['write'] as const), true, SHOP)).to.throw(UsageError, '--mix gives lookup (read) weight 1 but --reader was not given: add --reader, or drop lookup from --mix');
  });

  it('refuses an unknown workload, naming the ones that parse', () => {
    expect(() => resolveRunOptions({ local: true, workload: 'nope' }, new Date(), SHOP)).to.throw(UsageError, '--workload "nope" is unknown: use shop (a folder of workloads/)');
  });

  it('refuses a broken workload with its first problem, the line npm test prints', () => {
    expect(() => resolveRunOptions({ local: true, workload: 'broken' }, new Date(), SHOP)).to.throw(UsageError, /^workloads\/broken\/x\.sql:2: \\shell is not supported/);
  });

  it('refuses a run whose script reads a variable nothing sets, and accepts it with -D', () => {
    expect(() => resolveRunOptions({ local: true, workload: 'shop' }, new Date(), SHOP)).to.throw(UsageError, /workloads\/shop\/buy\.sql reads :maxid, which nothing sets: give -D maxid=value/);
    const s = resolveRunOptions({ local: true, workload: 'shop', define: ['maxid=10000'] }, new Date(), SHOP);
    expect(s.vars).to.deep.equal({ maxid: '10000' });
    expect(s.hashes).to.deep.equal({ lookup: SHOP.get('shop')!.scripts.get('lookup')!.hash, buy: SHOP.get('shop')!.scripts.get('buy')!.hash });
    expect(s.randomSeed).to.match(/^\d+$/);
  });

  it('validates -D: name=value, a variable name, a bounded value and count', () => {
    expect(parseDefines(['a=1', 'b=x=y', 'a=2'])).to.deep.equal({ a: '2', b: 'x=y' });
    expect(() => parseDefines(['novalue'])).to.throw(UsageError, /give name=value/);
    expect(() => parseDefines(['1x=2'])).to.throw(UsageError, /a variable name is/);
    expect(() => parseDefines([`x=${'y'.repeat(257)}`])).to.throw(UsageError, /at most 256/);
    expect(() => parseDefines(Array.from({ length: 17 }, (_, i) => `v${i}=1`))).to.throw(UsageError, /at most 16/);
  });

  it('lists workloads with their scripts, targets and input variables, and exits 2 on a problem', () => {
    const { workloads } = listWorkloads(SHOP);
    expect(workloads[0]!.scripts.map((s) => [s.name, s.target, s.variables])).to.deep.equal([
      ['buy', 'writer', ['maxid']],
      ['lookup', 'reader', []],
    ]);
    const io = captureIo();
    expect(workloadsCommand({}, io, SHOP)).to.equal(2);
    expect(io.stdout.join('\n')).to.include('  workloads/broken/x.sql:2: \\shell is not supported');
  });
});
