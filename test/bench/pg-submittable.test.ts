import { expect } from 'chai';
import pg from 'pg';
import { executePrepared } from '../../bench/lib/pg-submittable';
import { LocalCluster } from '../../trigger/local/cluster';
import { rejection, sentMessageTypes } from '../helpers/wire-spy';

describe('the bare node-postgres loop\'s prepared statements (bench/lib/pg-submittable.ts)', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  const clients: pg.Client[] = [];

  const connect = async (opts: pg.ClientConfig = {}): Promise<pg.Client> => {
    const c = new pg.Client({ ...cluster.writer, user: cluster.user, password: cluster.password, database: cluster.database, ...opts });
    await c.connect();
    clients.push(c);
    return c;
  };

  before(async () => {
    cluster = await LocalCluster.start();
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await cluster?.stop();
  });

  it('gives rows and column names as PostgreSQL prints them, NULL as null', async () => {
    const c = await connect();
    const r = await executePrepared(c, 'text_result', 'SELECT $1::int + 1 AS n, 1.50::numeric AS price, true AS yes, NULL::text AS nothing', ['41']);
    expect(r).to.deep.equal({ rows: [['42', '1.50', 't', null]], fields: ['n', 'price', 'yes', 'nothing'] });
  });

  it('binds text parameters byte for byte, NULL as SQL NULL', async () => {
    const c = await connect();
    const r = await executePrepared(c, 'params', 'SELECT $1::text AS a, octet_length($1::text) AS len, $2::text IS NULL AS b', ['héllo ✓', null]);
    expect(r.rows).to.deep.equal([['héllo ✓', '10', 't']]);
  });

  it('parses a statement once per connection, then only binds and executes it', async () => {
    const c = await connect();
    const sent = sentMessageTypes(c);
    for (let i = 0; i < 3; i++) await executePrepared(c, 'once', 'SELECT $1::int AS i', [String(i)]);
    expect(sent).to.deep.equal(['P', 'B', 'B']);
    const prepared = await c.query<{ n: string }>("SELECT count(*) AS n FROM pg_prepared_statements WHERE name = 'once'");
    expect(prepared.rows[0]!.n).to.equal('1');
  });

  it('fails with the server\'s SQLSTATE and leaves the connection usable', async () => {
    const c = await connect();
    const err = await rejection(executePrepared(c, 'div', 'SELECT 1 / $1::int AS q', ['0']));
    expect(err.code).to.equal('22012');
    expect((await executePrepared(c, 'div', 'SELECT 1 / $1::int AS q', ['1'])).rows).to.deep.equal([['1']]);
  });

  it('parses again a statement whose parse failed', async () => {
    const c = await connect();
    const text = 'SELECT count(*) AS n FROM prepared_later';
    expect((await rejection(executePrepared(c, 'later', text, []))).code).to.equal('42P01');
    await c.query('CREATE TABLE prepared_later (x int)');
    expect((await executePrepared(c, 'later', text, [])).rows).to.deep.equal([['0']]);
  });

  it('refuses a name already used for another statement on the connection', async () => {
    const c = await connect();
    await executePrepared(c, 'taken', 'SELECT 1 AS one', []);
    const err = await rejection(executePrepared(c, 'taken', 'SELECT 2 AS two', []));
    expect(err.message).to.match(/Prepared statements must be unique - 'taken'/);
  });

  it('keeps the client\'s transaction status', async () => {
    const c = await connect();
    await executePrepared(c, 'begin', 'BEGIN', []);
    expect(c.getTransactionStatus()).to.equal('T');
    await executePrepared(c, 'end', 'END', []);
    expect(c.getTransactionStatus()).to.equal('I');
  });

  it('is bounded by the client\'s query_timeout', async () => {
    const c = await connect({ query_timeout: 200 });
    const err = await rejection(executePrepared(c, 'slow', 'SELECT pg_sleep(5)', []));
    expect(err.message).to.equal('Query read timeout');
  });

  it('gives no rows and no columns for a statement that returns none', async () => {
    const c = await connect();
    expect(await executePrepared(c, 'no_rows_begin', 'BEGIN', [])).to.deep.equal({ rows: [], fields: [] });
    await c.query('ROLLBACK');
  });

  it('fails at once, in one line, when the connection\'s socket is already closed', async () => {
    const c = await connect();
    c.on('error', () => undefined); // the end of the socket is reported later as well: not this test's subject
    (c as unknown as { connection: { stream: { end(): void } } }).connection.stream.end();
    expect((await rejection(executePrepared(c, 'after_close', 'SELECT 1', []))).message).to.equal('the connection is closed');
  });

  it('fails a COPY ... FROM STDIN as node-postgres does, and the connection stays usable', async () => {
    const c = await connect();
    await c.query('CREATE TABLE IF NOT EXISTS prepared_copy (x int)');
    const err = await rejection(executePrepared(c, 'copy_in', 'COPY prepared_copy FROM STDIN', []));
    expect(err.message).to.match(/No source stream defined/);
    expect((await executePrepared(c, 'after_copy', 'SELECT 1 AS one', [])).rows).to.deep.equal([['1']]);
  });
});
