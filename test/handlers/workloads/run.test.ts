import { expect } from 'chai';
import { parseScript } from '../../../handlers/workloads/script/parse';
import { PgPrng } from '../../../handlers/workloads/script/prng';
import { runTransaction, type ScriptConnection } from '../../../handlers/workloads/script/run';
import { ScriptRuntimeError } from '../../../handlers/workloads/script/value';
import { Variables } from '../../../handlers/workloads/script/variables';

/**
 * A connection that records what it is sent and answers from a table of canned results, and
 * tracks the transaction status as PostgreSQL reports it.
 */
class FakeConnection implements ScriptConnection {
  readonly sent: Array<{ text: string; values?: (string | null)[] }> = [];
  private status = 'I';
  constructor(private readonly results: Record<string, { rows: (string | null)[][]; fields: string[] }> = {}) {}

  execute(_name: string, text: string, values: readonly (string | null)[]): Promise<{ rows: (string | null)[][]; fields: string[] }> {
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
    return this.results[text] ?? { rows: [], fields: [] };
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
});
