import { expect } from 'chai';
import { assertValid, buildCatalog, contentHash, WorkloadError } from '../../../handlers/workloads/catalog';

const SHOP = {
  'shop/init.sql': 'CREATE TABLE IF NOT EXISTS item (id int PRIMARY KEY, stock int);',
  'shop/lookup.sql': '\\set id random_zipfian(1, 10000, 1.1)\nSELECT * FROM item WHERE id = :id;',
  'shop/buy.sql': '\\set id random(1, 10000)\nUPDATE item SET stock = stock - 1 WHERE id = :id;',
};

describe('workload catalog', () => {
  it('makes each script of a folder an operation on its own target, with init.sql apart', () => {
    const catalog = buildCatalog(SHOP);
    expect(catalog.names).to.deep.equal(['shop']);
    expect(catalog.operationsOf('shop')).to.deep.equal([{ op: 'buy', target: 'writer' }, { op: 'lookup', target: 'reader' }]);
    expect(catalog.get('shop')!.init!.file).to.equal('workloads/shop/init.sql');
    expect(catalog.defaultOp('shop', 'reader')).to.equal('lookup');
  });

  it('names a script by the hash of its text, whatever its line ends', () => {
    expect(contentHash('SELECT 1;\r\nSELECT 2;\r\n')).to.equal(contentHash('SELECT 1;\nSELECT 2;\n'));
    expect(contentHash('SELECT 1;')).to.match(/^[0-9a-f]{16}$/).and.not.equal(contentHash('SELECT 2;'));
  });

  it('keeps a broken workload out and reports it by file:line, leaving the others usable', () => {
    const catalog = buildCatalog({ ...SHOP, 'bad/x.sql': 'SELECT 1;\n\\shell ls' });
    expect(catalog.names).to.deep.equal(['shop']);
    expect(catalog.problemsOf('bad')).to.deep.equal(['workloads/bad/x.sql:2: \\shell is not supported: the worker runs no commands (a script is code that runs in Lambda)']);
    expect(() => assertValid(catalog)).to.throw(WorkloadError, /^workloads\/bad\/x\.sql:2:/);
  });

  const refused: Array<[string, Record<string, string>, RegExp]> = [
    ['a folder name with capitals', { 'Shop/a.sql': 'SELECT 1;' }, /^workloads\/Shop: a workload's folder name must be/],
    ['a script named read', { 'w/read.sql': 'SELECT 1;' }, /^workloads\/w\/read\.sql:1: a script's name must be/],
    ['a folder with no script', { 'w/init.sql': 'CREATE TABLE t (a int);' }, /^workloads\/w: no scripts/],
    ['backslash commands in init.sql', { 'w/init.sql': 'CREATE TABLE t (a int);\n\\copy t from x', 'w/a.sql': 'SELECT 1;' }, /^workloads\/w\/init\.sql:2: init\.sql is plain SQL/],
    ['an init.sql for tpcb', { 'tpcb/init.sql': 'SELECT 1;', 'tpcb/a.sql': 'SELECT 1;' }, /^workloads\/tpcb\/init\.sql:1: tpcb's schema is created by its built-in loader/],
    ['a folder name longer than 40 characters', { [`${'w'.repeat(41)}/a.sql`]: 'SELECT 1;' }, /^workloads\/w{41}: a workload's folder name must be 1-40/],
    ['a script named write', { 'w/write.sql': 'SELECT 1;' }, /^workloads\/w\/write\.sql:1: a script's name must be/],
    ['a script name with a dot', { 'w/my.script.sql': 'SELECT 1;' }, /^workloads\/w\/my\.script\.sql:1: a script's name must be/],
    ['a variable in init.sql', { 'w/init.sql': 'CREATE TABLE t (a int);\nINSERT INTO t VALUES (:a);', 'w/a.sql': 'SELECT 1;' }, /^workloads\/w\/init\.sql:2: init\.sql is plain SQL: :a is not a variable there$/],
    ['an init.sql with no statement', { 'w/init.sql': '-- later\n', 'w/a.sql': 'SELECT 1;' }, /^workloads\/w\/init\.sql:1: init\.sql has no statements: remove it, or add the schema$/],
    ['an unterminated string in init.sql', { 'w/init.sql': 'CREATE TABLE t (a int);\nINSERT INTO t VALUES (\'x);', 'w/a.sql': 'SELECT 1;' }, /^workloads\/w\/init\.sql:2: unterminated quoted string$/],
  ];
  for (const [what, files, expected] of refused) {
    it(`refuses ${what}`, () => {
      const lines = buildCatalog(files).problems.map((p) => p.line);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(expected);
    });
  }

  it('asks for script names when read= or write= would be ambiguous', () => {
    const catalog = buildCatalog({ ...SHOP, 'shop/search.sql': 'SELECT 1;', 'shop/restock.sql': 'UPDATE item SET stock = 100;' });
    expect(() => catalog.defaultOp('shop', 'reader')).to.throw(WorkloadError, 'workload shop has several reader scripts (lookup, search): name them in --mix instead of read=');
    expect(() => catalog.defaultOp('shop', 'writer')).to.throw(WorkloadError, 'workload shop has several writer scripts (buy, restock): name them in --mix instead of write=');
  });

  it('reports every problem on a line of its own, with no stack trace to hide them', () => {
    const catalog = buildCatalog({ ...SHOP, 'bad/x.sql': 'SELECT 1;\n\\shell ls', 'Bad/y.sql': 'SELECT 1;' });
    const err = (() => {
      try {
        assertValid(catalog);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    const lines = [
      'workloads/Bad: a workload\'s folder name must be 1-40 lowercase letters, digits, "-" or "_", starting with a letter',
      'workloads/bad/x.sql:2: \\shell is not supported: the worker runs no commands (a script is code that runs in Lambda)',
    ];
    expect(err?.message).to.equal(lines.join('\n'));
    expect(err?.stack).to.equal(`WorkloadError: ${lines.join('\n')}`);
  });

  it('lets a catalog with no problem through', () => {
    expect(() => assertValid(buildCatalog(SHOP))).to.not.throw();
  });
});
