import { expect } from 'chai';
import pg from 'pg';
import { WireConnection } from '../../handlers/db/wire';
import { errorClassOf, mustDiscard } from '../../handlers/db/errors';
import { LocalCluster } from '../../trigger/local/cluster';

/** The error a promise rejects with (the test fails if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

type Stream = NodeJS.EventEmitter & { write(b: Buffer): boolean; end(): void };
const streamOf = (c: pg.Client): Stream => (c as unknown as { connection: { stream: Stream } }).connection.stream;

describe('the hot path\'s own protocol reader and writer (WireConnection)', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  let admin: pg.Client;
  const clients: pg.Client[] = [];

  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database });
    // The end of a socket is reported on the client as well: not these tests' subject (Pools listens there).
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
    return c;
  };
  const wire = async (timeoutMs = 30_000): Promise<{ c: pg.Client; w: WireConnection }> => {
    const c = await connect();
    return { c, w: new WireConnection(c, timeoutMs) };
  };

  /** The first byte of every chunk the client writes from now on: the protocol messages it starts with. */
  const sentMessageTypes = (c: pg.Client): string[] => {
    const seen: string[] = [];
    const stream = streamOf(c);
    const write = stream.write.bind(stream);
    stream.write = (b: Buffer) => {
      seen.push(String.fromCharCode(b[0]!));
      return write(b);
    };
    return seen;
  };

  before(async () => {
    cluster = await LocalCluster.start();
    admin = await connect();
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await cluster?.stop();
  });

  it('gives rows and column names as PostgreSQL prints them, NULL as null', async () => {
    const { w } = await wire();
    const r = await w.execute('text_result', 'SELECT $1::int + 1 AS n, 1.50::numeric AS price, true AS yes, NULL::text AS nothing, \'\'::text AS empty', ['41']);
    expect(r).to.deep.equal({ rows: [['42', '1.50', 't', null, '']], fields: ['n', 'price', 'yes', 'nothing', 'empty'] });
  });

  it('binds text parameters byte for byte, NULL as SQL NULL, an empty string as one', async () => {
    const { w } = await wire();
    const r = await w.execute('params', 'SELECT $1::text AS a, octet_length($1::text) AS len, $2::text IS NULL AS b, $3::text = \'\' AS c', ['héllo ✓', null, '']);
    expect(r.rows).to.deep.equal([['héllo ✓', '10', 't', 't']]);
  });

  it('parses a statement once per connection, then only binds and executes it', async () => {
    const { c, w } = await wire();
    const sent = sentMessageTypes(c);
    for (let i = 0; i < 3; i++) await w.execute('once', 'SELECT $1::int AS i', [String(i)]);
    expect(sent).to.deep.equal(['P', 'B', 'B']);
    const prepared = await c.query<{ n: string }>("SELECT count(*) AS n FROM pg_prepared_statements WHERE name = 'once'");
    expect(prepared.rows[0]!.n).to.equal('1');
  });

  it('reads an answer that arrives in many chunks: every row, in order', async () => {
    const { w } = await wire();
    // About 1 MB of rows: far more than one socket read.
    const r = await w.execute('many', 'SELECT i, repeat(\'x\', 100) AS pad FROM generate_series(1, $1::int) AS i', ['10000']);
    expect(r.rows).to.have.length(10_000);
    expect(r.rows.every((row, i) => row[0] === String(i + 1) && row[1]!.length === 100)).to.equal(true);
  });

  it('reads one row far longer than a socket read (10 MB), whole', async () => {
    const { w } = await wire();
    const r = await w.execute('long_row', 'SELECT repeat($1::text, 5000000) AS big, 7 AS after', ['ab']);
    expect(r.rows[0]![0]!.length).to.equal(10_000_000);
    expect(r.rows[0]![1]).to.equal('7');
  });

  it('fails with the server\'s SQLSTATE and message, as node-postgres would, and leaves the connection usable', async () => {
    const { w } = await wire();
    const err = await rejection(w.execute('div', 'SELECT 1 / $1::int AS q', ['0']));
    expect(err).to.be.instanceOf(pg.DatabaseError);
    expect(err).to.include({ code: '22012', message: 'division by zero', severity: 'ERROR' });
    expect(errorClassOf(err)).to.equal('22');
    expect((await w.execute('div', 'SELECT 1 / $1::int AS q', ['1'])).rows).to.deep.equal([['1']]);
  });

  it('parses again a statement whose parse failed', async () => {
    const { c, w } = await wire();
    const text = 'SELECT count(*) AS n FROM wire_later';
    expect((await rejection(w.execute('later', text, []))).code).to.equal('42P01');
    await c.query('CREATE TABLE wire_later (x int)');
    expect((await w.execute('later', text, [])).rows).to.deep.equal([['0']]);
  });

  it('refuses a name already used for another statement on the connection, sending nothing', async () => {
    const { c, w } = await wire();
    await w.execute('taken', 'SELECT 1 AS one', []);
    const sent = sentMessageTypes(c);
    const err = await rejection(w.execute('taken', 'SELECT 2 AS two', []));
    expect(err.message).to.match(/Prepared statements must be unique - 'taken'/);
    expect(sent).to.deep.equal([]);
  });

  it('tells the transaction status from its own answers and from node-postgres\'s queries alike', async () => {
    const { w } = await wire();
    await w.execute('begin', 'BEGIN', []);
    expect(w.getTransactionStatus()).to.equal('T');
    await rejection(w.execute('fails', 'SELECT 1 / 0', []));
    expect(w.getTransactionStatus()).to.equal('E');
    await w.query('ROLLBACK');
    expect(w.getTransactionStatus()).to.equal('I');
  });

  it('hands the connection back to node-postgres between statements: its queries, and the answers to them, are its own', async () => {
    const { c, w } = await wire();
    expect((await w.execute('a', 'SELECT 1 AS one', [])).rows).to.deep.equal([['1']]);
    expect((await c.query('SELECT 2 AS two')).rows).to.deep.equal([{ two: 2 }]);
    expect((await w.execute('b', 'SELECT 3 AS three', [])).rows).to.deep.equal([['3']]);
  });

  it('reads past what a script never reads in an answer (a notice, a parameter change) to its end', async () => {
    const { c, w } = await wire();
    await w.execute('raise', "DO $$ BEGIN RAISE NOTICE 'hello'; END $$", []);
    await w.execute('setname', "SELECT set_config('application_name', 'wire-test', false) AS v", []);
    expect((await c.query('SHOW application_name')).rows).to.deep.equal([{ application_name: 'wire-test' }]);
  });

  it('gives up on an answer later than its query timeout ("Query read timeout", class 08) and closes the connection', async () => {
    const { c, w } = await wire(300);
    const closed = new Promise((resolve) => streamOf(c).once('close', resolve));
    const err = await rejection(w.execute('slow', 'SELECT pg_sleep(2)', []));
    expect(err.message).to.equal('Query read timeout');
    expect(mustDiscard(err)).to.equal(true);
    await closed;
    expect((await rejection(w.execute('after', 'SELECT 1', []))).message).to.equal('Query read timeout');
  });

  it('fails a statement whose server ends the connection under it with the server\'s reason, a connection error', async () => {
    const { c, w } = await wire();
    const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const sleeping = rejection(w.execute('killed', 'SELECT pg_sleep(30)', []));
    for (;;) {
      const r = await admin.query('SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE pid = $1 AND wait_event = \'PgSleep\'', [pid]);
      if (r.rowCount === 1) break;
    }
    const err = await sleeping;
    expect(err.code).to.equal('57P01');
    expect(mustDiscard(err)).to.equal(true);
    expect(errorClassOf(await rejection(w.execute('after_kill', 'SELECT 1', [])))).to.equal('08');
  });

  it('fails a statement whose socket closes under it as a lost connection (class 08)', async () => {
    const { c, w } = await wire();
    const sleeping = rejection(w.execute('cut', 'SELECT pg_sleep(30)', []));
    (streamOf(c) as unknown as { destroy(): void }).destroy();
    const err = await sleeping;
    expect(err.message).to.equal('Connection terminated unexpectedly');
    expect(errorClassOf(err)).to.equal('08');
  });

  it('fails at once, in one line, when the connection\'s socket is already closed', async () => {
    const { c, w } = await wire();
    streamOf(c).end();
    expect((await rejection(w.execute('after_close', 'SELECT 1', []))).message).to.match(/^(the connection is closed|Connection terminated unexpectedly)$/);
  });

  it('fails a COPY ... FROM STDIN as node-postgres does, and the connection stays usable', async () => {
    const { c, w } = await wire();
    await c.query('CREATE TABLE IF NOT EXISTS wire_copy (x int)');
    const err = await rejection(w.execute('copy_in', 'COPY wire_copy FROM STDIN', []));
    expect(err.message).to.match(/No source stream defined/);
    expect((await w.execute('after_copy', 'SELECT 1 AS one', [])).rows).to.deep.equal([['1']]);
  });

  it('reads past the data of a COPY ... TO STDOUT, and the connection stays usable', async () => {
    const { w } = await wire();
    expect(await w.execute('copy_out', 'COPY (SELECT 1) TO STDOUT', [])).to.deep.equal({ rows: [], fields: [] });
    expect((await w.execute('after_copy_out', 'SELECT 1 AS one', [])).rows).to.deep.equal([['1']]);
  });

  it('gives no rows and no columns for a statement that returns none', async () => {
    const { w } = await wire();
    expect(await w.execute('no_rows_begin', 'BEGIN', [])).to.deep.equal({ rows: [], fields: [] });
    await w.query('ROLLBACK');
  });

  it('nudges on every answer, a failure included, before its promise settles', async () => {
    const c = await connect();
    const order: string[] = [];
    const w = new WireConnection(c, 30_000, () => order.push('nudge'));
    await w.execute('n1', 'SELECT 1', []).then(() => order.push('ok'));
    await w.execute('n2', 'SELECT 1 / 0', []).catch(() => order.push('failed'));
    expect(order).to.deep.equal(['nudge', 'ok', 'nudge', 'failed']);
  });
});
