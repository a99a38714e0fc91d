/**
 * One execution of a named prepared statement, with its parameters and results as text: what
 * libpq's PQexecPrepared does for pgbench -M prepared, and the same messages on the wire (Parse
 * the first time on a connection; then Bind, Describe portal, Execute, Sync; one round trip).
 *
 * node-postgres's own `client.query({ name, text, values })` sends those messages too, but spends
 * about as much client CPU per statement again around them: it clones the query config through
 * property descriptors, builds a Query event emitter and a Result with type parsers, serialises
 * each message into its own buffer and writes them through cork/uncork (a writev of four or five
 * buffers), and wraps the callback in two promises. A load generator measures the database only
 * as well as its client keeps up, so the hot path uses node-postgres's documented extension
 * point instead (a "submittable", as pg-cursor and pg-query-stream are): the client still owns
 * the connection, its queue, its transaction status, its query_timeout and its error handling;
 * this object only encodes its messages into one buffer, written once, and collects the rows as
 * the text the protocol parser already decoded.
 */
import type pg from 'pg';

/** A statement's result as text, as libpq's PQgetvalue gives it (null: SQL NULL). */
export interface TextResult {
  readonly rows: (string | null)[][];
  /** Column names, in order (from the RowDescription the Describe asks for). */
  readonly fields: string[];
}

/** The parts of node-postgres's Connection this reads (pg/lib/connection.js). */
interface WireConnection {
  readonly stream: { write(chunk: Buffer): boolean; readonly writable: boolean };
  /** Statements parsed on this connection, and those whose Parse is on its way, by name: their text. */
  readonly parsedStatements: Record<string, string | undefined>;
  readonly submittedNamedStatements: Record<string, string | undefined>;
  sendCopyFail(message: string): void;
  sync(): void;
}

type Callback = (err: Error | null, result?: TextResult) => void;

/** Describe portal '', Execute portal '' (all rows), Sync: the same after every Bind. */
const TAIL = Buffer.from([
  0x44, 0, 0, 0, 6, 0x50, 0, // 'D' len 6, 'P', ''
  0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0, // 'E' len 9, '', 0 rows = no limit
  0x53, 0, 0, 0, 4, // 'S' len 4
]);

/**
 * The node-postgres submittable (client.query(submittable)): the client calls submit() when the
 * connection is free, then the handle* methods as the server's messages arrive, and wraps
 * `callback` with its query_timeout.
 */
class PreparedExecution {
  private resultRows: (string | null)[][] = [];
  private resultFields: string[] = [];

  constructor(
    /** Read by the client: a ParseComplete records `name` -> `text` as parsed on the connection. */
    readonly name: string,
    readonly text: string,
    private readonly values: readonly (string | null)[],
    public callback: Callback,
    /** Called as the answer (or the error) arrives, before the callback. */
    private readonly onAnswer: (() => void) | undefined,
  ) {}

  submit(connection: WireConnection): Error | null {
    const parsed = connection.parsedStatements[this.name] ?? connection.submittedNamedStatements[this.name];
    if (parsed !== undefined && parsed !== this.text) return new Error(`Prepared statements must be unique - '${this.name}' was used for a different statement`);
    if (!connection.stream.writable) return new Error('the connection is closed');
    connection.stream.write(encode(parsed === undefined ? this.text : undefined, this.name, this.values));
    if (parsed === undefined) connection.submittedNamedStatements[this.name] = this.text;
    return null;
  }

  handleRowDescription(msg: { fields: Array<{ name: string }> }): void {
    this.resultFields = msg.fields.map((f) => f.name);
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    this.resultRows.push(msg.fields);
  }

  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  /** Never sent: the Execute asks for all rows. */
  handlePortalSuspended(): void {}

  handleError(err: Error): void {
    this.onAnswer?.();
    this.callback(err);
  }

  handleReadyForQuery(): void {
    this.onAnswer?.();
    this.callback(null, { rows: this.resultRows, fields: this.resultFields });
  }

  /**
   * A COPY ... FROM STDIN has no data to send here, as with node-postgres's own queries. The Sync
   * sent with the Execute was ignored in copy-in mode, and after the CopyFail the server discards
   * everything until a Sync ("COPY Operations", PostgreSQL protocol flow): without a second one
   * the connection would wait for ReadyForQuery until the query timeout.
   */
  handleCopyInResponse(connection: WireConnection): void {
    connection.sendCopyFail('No source stream defined');
    connection.sync();
  }

  handleCopyData(): void {}
}

/**
 * Parse (when `text` is given), Bind (parameters as text, results as text), Describe portal,
 * Execute, Sync, in one buffer.
 */
function encode(text: string | undefined, name: string, values: readonly (string | null)[]): Buffer {
  const nameLen = Buffer.byteLength(name);
  const textLen = text === undefined ? 0 : Buffer.byteLength(text);
  const parseLen = text === undefined ? 0 : 1 + 4 + nameLen + 1 + textLen + 1 + 2;
  let bindBody = 4 + 1 + nameLen + 1 + 2 + 2 + 2;
  const lengths = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    lengths[i] = v === null || v === undefined ? -1 : Buffer.byteLength(v);
    bindBody += 4 + Math.max(0, lengths[i]!);
  }
  const buf = Buffer.allocUnsafe(parseLen + 1 + bindBody + TAIL.length);
  let o = 0;
  if (text !== undefined) {
    buf[o++] = 0x50; // 'P'
    o = buf.writeInt32BE(parseLen - 1, o);
    o += buf.write(name, o, 'utf8');
    buf[o++] = 0;
    o += buf.write(text, o, 'utf8');
    buf[o++] = 0;
    o = buf.writeInt16BE(0, o); // no parameter types: the server infers them
  }
  buf[o++] = 0x42; // 'B'
  o = buf.writeInt32BE(bindBody, o);
  buf[o++] = 0; // unnamed portal
  o += buf.write(name, o, 'utf8');
  buf[o++] = 0;
  o = buf.writeInt16BE(0, o); // no parameter format codes: all text
  o = buf.writeInt16BE(values.length, o);
  for (let i = 0; i < values.length; i++) {
    o = buf.writeInt32BE(lengths[i]!, o);
    if (lengths[i]! > 0) o += buf.write(values[i]!, o, 'utf8');
  }
  o = buf.writeInt16BE(0, o); // no result format codes: all text
  TAIL.copy(buf, o);
  return buf;
}

/**
 * Execute the named prepared statement `name` (`text`, parsed on this connection the first time)
 * with `values` bound as text parameters, and wait for its result: one round trip. `onAnswer` runs
 * in the I/O callback that brings the answer (a Clock's nudge).
 */
export function executePrepared(client: pg.ClientBase, name: string, text: string, values: readonly (string | null)[], onAnswer?: () => void): Promise<TextResult> {
  return new Promise<TextResult>((resolve, reject) => {
    client.query(new PreparedExecution(name, text, values, (err, result) => (err ? reject(err) : resolve(result!)), onAnswer) as unknown as pg.Submittable);
  });
}

/** A client as the script interpreter drives it (handlers/workloads/script/run.ts's ScriptConnection). */
export interface PreparedConnection {
  execute(name: string, text: string, values: readonly (string | null)[]): Promise<TextResult>;
  query(text: string): Promise<unknown>;
  getTransactionStatus(): string | null;
}

/** `client` with its SQL commands run by {@link executePrepared}; other queries (ROLLBACK) go through it as usual. */
export function preparedConnection(client: pg.ClientBase, onAnswer?: () => void): PreparedConnection {
  return {
    execute: (name, text, values) => executePrepared(client, name, text, values, onAnswer),
    query: (text) => client.query(text),
    getTransactionStatus: () => client.getTransactionStatus(),
  };
}
