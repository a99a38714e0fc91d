import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { WireConnection } from '../../handlers/db/wire';
import { errorClassOf, mustDiscard } from '../../handlers/db/errors';
import { LocalCluster } from '../../trigger/local/cluster';
import { rejection, sentMessageTypes } from '../helpers/wire-spy';

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
    // And the next answer, short, is read in its one chunk.
    expect((await w.execute('after_long', 'SELECT 8 AS eight', [])).rows).to.deep.equal([['8']]);
  });

  it('times each statement from its own start: two that each take most of the query timeout both succeed', async () => {
    const { w } = await wire(400);
    await w.execute('nap1', 'SELECT pg_sleep(0.25)', []);
    // Still running when the first statement's timeout would have passed.
    await w.execute('nap2', 'SELECT pg_sleep(0.25)', []);
  });

  it('leaves a connection alone that is idle (or busy with node-postgres\'s own query) when its query timeout passes', async () => {
    const { c, w } = await wire(100);
    await w.execute('before_idle', 'SELECT 1', []);
    // Longer than the query timeout, and not a statement of the hot path's.
    await c.query('SELECT pg_sleep(0.3)');
    expect((await w.execute('after_idle', 'SELECT 2 AS two', [])).rows).to.deep.equal([['2']]);
  });

  it('fails with the server\'s SQLSTATE and message, as node-postgres would, and leaves the connection usable', async () => {
    const { w } = await wire();
    const err = await rejection(w.execute('div', 'SELECT 1 / $1::int AS q', ['0']));
    expect(err).to.be.instanceOf(pg.DatabaseError);
    expect(err).to.include({ name: 'error', code: '22012', message: 'division by zero', severity: 'ERROR' });
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
    const err = await rejection(w.execute('after_close', 'SELECT 1', []));
    expect(err.message).to.match(/^Connection terminated/);
    expect(mustDiscard(err)).to.equal(true);
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

/** A backend message: its type, its length, its body. */
function msg(type: string, ...body: Buffer[]): Buffer {
  const b = Buffer.concat(body);
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(4 + b.length, 1);
  return Buffer.concat([head, b]);
}
const cstr = (t: string): Buffer => Buffer.from(`${t}\0`);
const int16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
const int32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const rowDescription = (...names: string[]): Buffer => msg('T', int16(names.length), ...names.flatMap((n) => [cstr(n), Buffer.alloc(18)]));
const dataRow = (...values: (string | null)[]): Buffer => msg('D', int16(values.length), ...values.flatMap((v) => (v === null ? [int32(-1)] : [int32(Buffer.byteLength(v)), Buffer.from(v)])));
const ready = (status = 'I'): Buffer => msg('Z', Buffer.from(status));
const error = (severity: string, code: string, text: string): Buffer => msg('E', cstr(`S${severity}`), cstr(`V${severity}`), cstr(`C${code}`), cstr(`M${text}`), Buffer.from([0]));
/** The answer to a first execution of a one-row SELECT: ParseComplete, BindComplete, columns, the row, CommandComplete, ReadyForQuery. */
const selectAnswer = (): Buffer => Buffer.concat([msg('1'), msg('2'), rowDescription('a', 'b'), dataRow('x', null), msg('C', cstr('SELECT 1')), ready()]);

/**
 * A stand-in for a node-postgres client and its socket, for what a real server will not do on
 * demand (bytes split anywhere, an answer out of step, a socket error): `pgSaw` is what reached
 * node-postgres's own 'data' listener, `written` what was written.
 */
function fakeClient(): { client: pg.Client; socket: EventEmitter & { written: Buffer[]; writable: boolean; destroyed: boolean; destroy(): void }; pgSaw: Buffer[]; pg: EventEmitter & { readyForQuery: boolean; _queryQueue: unknown[] } } {
  const socket = Object.assign(new EventEmitter(), {
    written: [] as Buffer[],
    writable: true,
    destroyed: false,
    write(b: Buffer): boolean { socket.written.push(b); return true; },
    destroy(): void { socket.writable = false; socket.destroyed = true; socket.emit('close'); },
  });
  const pgSaw: Buffer[] = [];
  socket.on('data', (b: Buffer) => pgSaw.push(b));
  const client = Object.assign(new EventEmitter(), {
    connection: { stream: socket },
    readyForQuery: true,
    _queryQueue: [] as unknown[],
    getTransactionStatus: () => 'I',
    query: async () => undefined,
  });
  return { client: client as unknown as pg.Client, socket, pgSaw, pg: client };
}

describe('WireConnection on bytes a server will not send on demand', () => {
  it('hands node-postgres what follows the answer\'s ReadyForQuery in the same chunk, byte for byte', async () => {
    const { client, socket, pgSaw } = fakeClient();
    const w = new WireConnection(client, 30_000);
    const answer = w.execute('s', 'SELECT', []);
    const notice = msg('N', cstr('SNOTICE'), cstr('Mafter'), Buffer.from([0]));
    socket.emit('data', Buffer.concat([selectAnswer(), notice]));
    expect(await answer).to.deep.equal({ rows: [['x', null]], fields: ['a', 'b'] });
    expect(Buffer.concat(pgSaw).equals(notice)).to.equal(true);
  });

  it('reads an answer that arrives one byte at a time', async () => {
    const { client, socket, pgSaw } = fakeClient();
    const w = new WireConnection(client, 30_000);
    const answer = w.execute('s', 'SELECT', []);
    const bytes = selectAnswer();
    for (let i = 0; i < bytes.length; i++) socket.emit('data', bytes.subarray(i, i + 1));
    expect(await answer).to.deep.equal({ rows: [['x', null]], fields: ['a', 'b'] });
    expect(pgSaw).to.deep.equal([]);
  });

  it('closes a connection whose server sent an impossible message length, failing the statement as a lost connection', async () => {
    const { client, socket } = fakeClient();
    const w = new WireConnection(client, 30_000);
    const answer = rejection(w.execute('s', 'SELECT', []));
    socket.emit('data', Buffer.from([0x32, 0, 0, 0, 2]));
    const err = await answer;
    expect(err.message).to.equal('Connection terminated: the server sent an invalid protocol message (length 2)');
    expect(errorClassOf(err)).to.equal('08');
    expect(socket.destroyed).to.equal(true);
  });

  it('closes a connection whose answer is out of step with its statement (it begins mid-answer)', async () => {
    const { client, socket } = fakeClient();
    const w = new WireConnection(client, 30_000);
    const answer = rejection(w.execute('s', 'SELECT', []));
    socket.emit('data', Buffer.concat([msg('C', cstr('SELECT 1')), ready()]));
    const err = await answer;
    expect(err.message).to.match(/^Connection terminated: an answer out of step with its statement began with message 'C'/);
    expect(mustDiscard(err)).to.equal(true);
    expect(socket.destroyed).to.equal(true);
  });

  it('fails a statement in flight with its socket\'s error (a reset: class 08)', async () => {
    const { client, socket } = fakeClient();
    const w = new WireConnection(client, 30_000);
    const answer = rejection(w.execute('s', 'SELECT', []));
    socket.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    const err = await answer;
    expect(err.code).to.equal('ECONNRESET');
    expect(errorClassOf(err)).to.equal('08');
  });

  it('fails a statement whose server ended the connection after an ordinary error as a lost connection, and after a FATAL one with that error', async () => {
    const ordinary = fakeClient();
    const a = rejection(new WireConnection(ordinary.client, 30_000).execute('s', 'SELECT', []));
    ordinary.socket.emit('data', Buffer.concat([msg('1'), msg('2'), error('ERROR', '40001', 'could not serialize access')]));
    ordinary.socket.destroy();
    expect(errorClassOf(await a)).to.equal('08');
    const fatal = fakeClient();
    const b = rejection(new WireConnection(fatal.client, 30_000).execute('s', 'SELECT', []));
    fatal.socket.emit('data', error('FATAL', '57P01', 'terminating connection due to administrator command'));
    fatal.socket.destroy();
    expect((await b).code).to.equal('57P01');
  });

  it('reads an answer that a notification, a parameter change and a notice precede, and gives its rows', async () => {
    const { client, socket } = fakeClient();
    const w = new WireConnection(client, 30_000);
    const answer = w.execute('s', 'SELECT', []);
    const notification = msg('A', int32(42), cstr('channel'), cstr('payload'));
    const parameter = msg('S', cstr('application_name'), cstr('x'));
    const notice = msg('N', cstr('SNOTICE'), cstr('Mbefore'), Buffer.from([0]));
    socket.emit('data', Buffer.concat([notification, parameter, notice, selectAnswer()]));
    expect(await answer).to.deep.equal({ rows: [['x', null]], fields: ['a', 'b'] });
  });

  it('takes a FATAL error from its localised severity when the server sends no unlocalised one', async () => {
    const { client, socket } = fakeClient();
    const answer = rejection(new WireConnection(client, 30_000).execute('s', 'SELECT', []));
    socket.emit('data', msg('E', cstr('SFATAL'), cstr('C57P01'), cstr('Mterminating connection'), Buffer.from([0])));
    socket.destroy();
    expect((await answer).code).to.equal('57P01');
  });

  it('fails a statement waiting for node-postgres when the connection closes, or when node-postgres never finishes (query timeout)', async () => {
    const closing = fakeClient();
    closing.pg.readyForQuery = false;
    const a = rejection(new WireConnection(closing.client, 30_000).execute('s', 'SELECT', []));
    closing.socket.destroy();
    expect((await a).message).to.equal('Connection terminated unexpectedly');
    const stuck = fakeClient();
    stuck.pg.readyForQuery = false;
    const w = new WireConnection(stuck.client, 50);
    expect((await rejection(w.execute('s', 'SELECT', []))).message).to.equal('Query read timeout');
    expect(stuck.socket.destroyed).to.equal(true);
    expect(stuck.socket.written).to.have.length(0);
    expect((await rejection(w.execute('t', 'SELECT', []))).message).to.equal('Query read timeout');
  });

  it('refuses a second statement while one is in flight on the connection, writing nothing for it', async () => {
    const { client, socket } = fakeClient();
    const w = new WireConnection(client, 30_000);
    const first = w.execute('s', 'SELECT', []);
    expect((await rejection(w.execute('t', 'SELECT 2', []))).message).to.equal('a statement is already in flight on this connection');
    expect(socket.written).to.have.length(1);
    socket.emit('data', selectAnswer());
    await first;
  });

  it('waits for node-postgres to finish an answer of its own before writing a statement', async () => {
    const { client, socket, pg: state } = fakeClient();
    const w = new WireConnection(client, 30_000);
    // node-postgres failed its query on the ErrorResponse; its ReadyForQuery is still to come.
    state.readyForQuery = false;
    const answer = w.execute('s', 'SELECT', []);
    await new Promise(setImmediate);
    expect(socket.written).to.have.length(0);
    state.readyForQuery = true;
    state.emit('drain');
    await new Promise(setImmediate);
    expect(socket.written).to.have.length(1);
    socket.emit('data', selectAnswer());
    expect((await answer).rows).to.deep.equal([['x', null]]);
  });

  it('refuses a client whose socket it does not know how to share (not node-postgres\'s one reader on it)', () => {
    const { client, socket } = fakeClient();
    socket.on('data', () => undefined);
    expect(() => new WireConnection(client, 30_000)).to.throw("expected node-postgres's one 'data' listener on its socket, found 2");
  });
});
