import { expect } from 'chai';
import { parseScript } from '../../../handlers/workloads/script/parse';
import { PgPrng } from '../../../handlers/workloads/script/prng';
import { runTransaction, type ScriptConnection } from '../../../handlers/workloads/script/run';
import { ScriptRuntimeError } from '../../../handlers/workloads/script/value';
import { Variables } from '../../../handlers/workloads/script/variables';

/** A canned result: PostgreSQL's text for each cell (null: NULL) and each column's type. */
interface Canned {
  rows: Array<Array<string | null>>;
  /** Column names (a type OID is only documentation: the connection answers in text, as handlers/db/wire.ts does). */
  fields: Array<string | { name: string; dataTypeID?: number }>;
}

/**
 * A connection that records what it is sent, tracks the transaction status as PostgreSQL reports
 * it, and answers from a table of canned results as handlers/db/wire.ts does: rows of
 * PostgreSQL's text, column names.
 */
class FakeConnection implements ScriptConnection {
  readonly sent: Array<{ text: string; values?: (string | null)[] }> = [];
  /** The prepared-statement name of each statement sent with parameters. */
  readonly names: string[] = [];
  private status = 'I';
  constructor(private readonly results: Record<string, Canned> = {}) {}

  execute(name: string, text: string, values: readonly (string | null)[]): Promise<{ rows: (string | null)[][]; fields: string[] }> {
    this.names.push(name);
    return this.run(text, [...values]);
  }

  query(text: string): Promise<unknown> {
    return this.run(text);
  }

  private async run(text: string, values?: (string | null)[]): Promise<{ rows: (string | null)[][]; fields: string[] }> {
    this.sent.push(values ? { text, values } : { text });
    if (/^BEGIN/i.test(text)) this.status = 'T';
    if (/^(END|COMMIT|ROLLBACK)/i.test(text)) this.status = 'I';
    if (/fail/.test(text)) {
      if (this.status === 'T') this.status = 'E';
      throw Object.assign(new Error('boom'), { code: '22012' });
    }
    const canned = this.results[text] ?? { rows: [], fields: [] };
    return { rows: canned.rows.map((r) => [...r]), fields: canned.fields.map((f) => (typeof f === 'string' ? f : f.name)) };
  }

  getTransactionStatus(): string {
    return this.status;
  }
}

function runner(text: string, vars = new Variables()) {
  const parsed = parseScript(text, 'workloads/t/x.sql');
  const slept: number[] = [];
  return {
    slept,
    run: (conn: ScriptConnection) => runTransaction({ parsed, statementPrefix: 's_' }, conn, {
      variables: vars, rng: PgPrng.seeded(1n), sleep: async (ms) => { slept.push(ms); },
    }),
  };
}

/** The error a promise rejects with (the test fails if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('script interpreter', () => {
  it('binds variables as parameters, sent as pgbench would print them', async () => {
    const conn = new FakeConnection();
    const vars = new Variables();
    vars.setText('name', "O'Brien");
    await runner('\\set n 7\n\\set d :n / 2.0\n\\set nothing NULL\nSELECT :n, :d, :name, :nothing;', vars).run(conn);
    expect(conn.sent).to.deep.equal([{ text: 'SELECT $1, $2, $3, $4;', values: ['7', '3.5', "O'Brien", null] }]);
  });

  it('runs only the branch of \\if / \\elif / \\else that holds', async () => {
    const script = '\\if :x = 1\nSELECT 1;\n\\elif :x = 2\nSELECT 2;\n\\else\nSELECT 3;\n\\endif\nSELECT 4;';
    for (const [x, expected] of [['1', ['SELECT 1;', 'SELECT 4;']], ['2', ['SELECT 2;', 'SELECT 4;']], ['5', ['SELECT 3;', 'SELECT 4;']]] as const) {
      const conn = new FakeConnection();
      const vars = new Variables();
      vars.setText('x', x);
      await runner(script, vars).run(conn);
      expect(conn.sent.map((s) => s.text), `x = ${x}`).to.deep.equal(expected);
    }
  });

  it('feeds \\gset results to later commands, as text', async () => {
    const conn = new FakeConnection({ 'SELECT max(id) AS top FROM t': { rows: [['41']], fields: ['top'] } });
    await runner('SELECT max(id) AS top FROM t \\gset\n\\set next :top + 1\nINSERT INTO t VALUES (:next);').run(conn);
    expect(conn.sent[1]).to.deep.equal({ text: 'INSERT INTO t VALUES ($1);', values: ['42'] });
  });

  it('fails \\gset that does not get exactly one row', async () => {
    const conn = new FakeConnection();
    const err = await rejection(runner('SELECT 1 AS a WHERE false \\gset').run(conn));
    expect(err).to.be.instanceOf(ScriptRuntimeError);
    expect(err.message).to.match(/\\gset expected one row, got 0/);
  });

  it('keeps each transaction\'s variables to itself', async () => {
    const vars = new Variables();
    vars.setText('n', '1');
    const r = runner('\\set n :n + 1\nSELECT :n;', vars);
    const conn = new FakeConnection();
    await r.run(conn);
    await r.run(conn);
    expect(conn.sent.map((s) => s.values)).to.deep.equal([['2'], ['2']]);
  });

  it('rolls back an open transaction when a statement fails, and rethrows its error', async () => {
    const conn = new FakeConnection();
    expect((await rejection(runner('BEGIN;\nSELECT fail;\nEND;').run(conn))).message).to.match(/boom/);
    expect(conn.sent.map((s) => s.text)).to.deep.equal(['BEGIN;', 'SELECT fail;', 'ROLLBACK']);
  });

  it('refuses a script that ends inside a transaction block, and rolls it back', async () => {
    const conn = new FakeConnection();
    const err = await rejection(runner('BEGIN;\nSELECT 1;').run(conn));
    expect(err).to.be.instanceOf(ScriptRuntimeError);
    expect(err.message).to.match(/end of script reached without completing the last transaction/);
    expect(conn.sent.at(-1)!.text).to.equal('ROLLBACK');
  });

  it('sleeps through the given sleeper, in milliseconds', async () => {
    const vars = new Variables();
    vars.setText('t', '250');
    const r = runner('\\sleep 2 ms\n\\sleep :t us\n\\sleep 1', vars);
    await r.run(new FakeConnection());
    expect(r.slept).to.deep.equal([2, 0.25, 1000]);
  });

  it('stores \\gset columns as PostgreSQL\'s text, as pgbench does, not as JavaScript values', async () => {
    const conn = new FakeConnection({
      'SELECT now() AS ts, true AS ok, 7 AS n': { rows: [['2026-12-01 06:00:00+00', 't', '7']], fields: [{ name: 'ts', dataTypeID: 1184 }, { name: 'ok', dataTypeID: 16 }, { name: 'n', dataTypeID: 23 }] },
    });
    await runner('SELECT now() AS ts, true AS ok, 7 AS n \\gset\nSELECT :ts, :ok, :n;').run(conn);
    expect(conn.sent[1]!.values).to.deep.equal(['2026-12-01 06:00:00+00', 't', '7']);
  });

  it('stores a NULL from \\gset as an empty string, as pgbench does', async () => {
    const conn = new FakeConnection({ 'SELECT NULL AS v': { rows: [[null]], fields: [{ name: 'v' }] } });
    await runner('SELECT NULL AS v \\gset\nSELECT :v;').run(conn);
    expect(conn.sent[1]!.values).to.deep.equal(['']);
  });

  it('refuses a \\gset column whose name cannot be a variable', async () => {
    const conn = new FakeConnection({ 'SELECT 1': { rows: [['1']], fields: [{ name: '?column?' }] } });
    const err = await rejection(runner('SELECT 1 \\gset').run(conn));
    expect(err).to.be.instanceOf(ScriptRuntimeError).with.property('message', '\\gset: invalid variable name "?column?"');
  });

  it('keeps the last row of \\aset, with its prefix', async () => {
    const conn = new FakeConnection({ 'SELECT id FROM t': { rows: [['1'], ['2']], fields: [{ name: 'id' }] } });
    await runner('SELECT id FROM t \\aset p_\nSELECT :p_id;').run(conn);
    expect(conn.sent[1]!.values).to.deep.equal(['2']);
  });

  it('leaves variables as they were when \\aset gets no row', async () => {
    const vars = new Variables();
    vars.setText('id', '5');
    const conn = new FakeConnection({ 'SELECT id FROM t WHERE false': { rows: [], fields: [{ name: 'id' }] } });
    await runner('SELECT id FROM t WHERE false \\aset\nSELECT :id;', vars).run(conn);
    expect(conn.sent[1]!.values).to.deep.equal(['5']);
  });

  it('runs each SQL command as a prepared statement of its own, the same one in every transaction', async () => {
    const conn = new FakeConnection();
    const r = runner('SELECT 1;\n\\set n 2\nSELECT :n;');
    await r.run(conn);
    await r.run(conn);
    expect(conn.names).to.deep.equal(['s_0', 's_2', 's_0', 's_2']);
  });

  it('sends no ROLLBACK when a statement fails outside a transaction block', async () => {
    const conn = new FakeConnection();
    await rejection(runner('SELECT fail;').run(conn));
    expect(conn.sent.map((q) => q.text)).to.deep.equal(['SELECT fail;']);
  });

  it('fails on an undefined variable, in SQL and in an expression', async () => {
    for (const script of ['SELECT :nope;', '\\set n :nope + 1']) {
      const err = await rejection(runner(script).run(new FakeConnection()));
      expect(err, script).to.be.instanceOf(ScriptRuntimeError).with.property('message', 'undefined variable "nope"');
    }
  });

  // pgbench reads the variable with C's atoi(), and refuses a zero that is not written as digits.
  const sleeps: Array<[string, number]> = [['-5', 0], ['0', 0], ['12abc', 12], ['+7', 7]];
  for (const [text, ms] of sleeps) {
    it(`sleeps ${ms} ms for \\sleep :t ms with t = "${text}", as pgbench`, async () => {
      const vars = new Variables();
      vars.setText('t', text);
      const r = runner('\\sleep :t ms', vars);
      await r.run(new FakeConnection());
      expect(r.slept).to.deep.equal([ms]);
    });
  }

  for (const text of ['x5', 'abc', ' 0']) {
    it(`refuses \\sleep :t with t = "${text}", as pgbench`, async () => {
      const vars = new Variables();
      vars.setText('t', text);
      const err = await rejection(runner('\\sleep :t ms', vars).run(new FakeConnection()));
      expect(err).to.be.instanceOf(ScriptRuntimeError).with.property('message', `\\sleep: invalid sleep time "${text}" for variable "t"`);
    });
  }

  it('refuses \\sleep on a NULL variable, naming it as pgbench does', async () => {
    const err = await rejection(runner('\\set t NULL\n\\sleep :t ms').run(new FakeConnection()));
    expect(err).to.be.instanceOf(ScriptRuntimeError).with.property('message', '\\sleep: invalid sleep time "NULL" for variable "t"');
  });
});

describe('script variables', () => {
  it('sees the message\'s variables from a transaction\'s layer, and keeps the layer\'s own to it', () => {
    const message = new Variables();
    message.setText('scale', '10');
    const transaction = message.child();
    transaction.setText('aid', '1');
    expect([transaction.has('scale'), transaction.has('aid'), message.has('aid'), message.has('nope')]).to.deep.equal([true, true, false, false]);
  });
});
