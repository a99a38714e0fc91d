/**
 * The bare node-postgres loop of bench/figures/pgbench-ratio.ts: the cheapest way node-postgres
 * itself can run a named prepared statement (the worker ran its statements this way until it got
 * its own protocol reader, handlers/db/wire.ts). One execution of a named prepared statement, with
 * its parameters and results as text: what libpq's PQexecPrepared does for pgbench -M prepared,
 * and the same messages on the wire (Parse the first time on a connection; then Bind, Describe
 * portal, Execute, Sync; one round trip).
 *
 * node-postgres's own `client.query({ name, text, values })` sends those messages too, but spends
 * about as much client CPU per statement again around them: it clones the query config through
 * property descriptors, builds a Query event emitter and a Result with type parsers, serialises
 * each message into its own buffer and writes them through cork/uncork (a writev of four or five
 * buffers), and wraps the callback in two promises. This uses node-postgres's documented
 * extension point instead (a "submittable", as pg-cursor and pg-query-stream are): the client
 * still owns the connection, its queue, its transaction status, its query_timeout and its error
 * handling; this object only encodes its messages into one buffer, written once, and collects the
 * rows as the text the protocol parser already decoded.
 */
import type pg from 'pg';
import { encodeExecution, type TextResult } from '../../handlers/db/wire';

/** The parts of node-postgres's Connection this reads (pg/lib/connection.js). */
interface PgConnection {
  readonly stream: { write(chunk: Buffer): boolean; readonly writable: boolean };
  /** Statements parsed on this connection, and those whose Parse is on its way, by name: their text. */
  readonly parsedStatements: Record<string, string | undefined>;
  readonly submittedNamedStatements: Record<string, string | undefined>;
  sendCopyFail(message: string): void;
  sync(): void;
}

type Callback = (err: Error | null, result?: TextResult) => void;

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

  submit(connection: PgConnection): Error | null {
    const parsed = connection.parsedStatements[this.name] ?? connection.submittedNamedStatements[this.name];
    if (parsed !== undefined && parsed !== this.text) return new Error(`Prepared statements must be unique - '${this.name}' was used for a different statement`);
    if (!connection.stream.writable) return new Error('the connection is closed');
    connection.stream.write(encodeExecution(parsed === undefined ? this.text : undefined, this.name, this.values));
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
  handleCopyInResponse(connection: PgConnection): void {
    connection.sendCopyFail('No source stream defined');
    connection.sync();
  }

  handleCopyData(): void {}
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
