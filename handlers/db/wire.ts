/**
 * The hot path's reader and writer of the PostgreSQL protocol, on a connection node-postgres opened.
 *
 * node-postgres connects, negotiates TLS, authenticates, pools and closes; this only runs the
 * script's SQL commands, the way libpq runs pgbench's (`-M prepared`): Parse the first time on a
 * connection, then Bind, Describe portal, Execute, Sync, written once, and read the answer up to
 * ReadyForQuery (one round trip).
 *
 * Why not through node-postgres (as the worker did until 2026-12-01, through a "submittable",
 * now bench/lib/pg-submittable.ts, the benchmark's bare node-postgres loop): for every
 * answer its protocol parser builds a message object per message, its connection re-emits each as
 * an event, its client dispatches each to the query, and each query arms and clears a
 * query_timeout timer. Measured on the 2-core VM (handlers/README.md), TPC-B's seven statements in
 * a closed loop: 205-243 µs of user CPU per transaction here against 249-364 through node-postgres
 * (pgbench's whole client: about 50). Here the answer's bytes are
 * scanned in place: a message's type and length, the few fields a script reads (rows and column
 * names for \gset and \aset, the transaction status, an error's fields), nothing else.
 *
 * How it shares the connection: node-postgres reads the socket with one 'data' listener (its
 * parser, pg-protocol's parse()). It is replaced, once per connection, by one that hands every
 * chunk to it unchanged, except while a statement of ours is waiting for its answer: then the
 * chunk is read here, up to the ReadyForQuery, and whatever follows it goes to node-postgres.
 * node-postgres therefore sees an idle connection between its own queries (ROLLBACK, the pool's
 * role query), which is what it is: nothing of ours is in flight then.
 */
import pg from 'pg';
import type { ScriptConnection } from '../workloads/script/run';

/** A statement's result as text, as libpq's PQgetvalue gives it (null: SQL NULL). */
export interface TextResult {
  readonly rows: (string | null)[][];
  /** Column names, in order (from the RowDescription the Describe asks for). */
  readonly fields: string[];
}

/** The parts of node-postgres's client and connection this uses (pg/lib/client.js, connection.js). */
interface PgInternals {
  readonly connection: {
    readonly stream: NodeJS.EventEmitter & { write(chunk: Buffer): boolean; readonly writable: boolean; destroy(err?: Error): void };
  };
}

type DataListener = (chunk: Buffer) => void;

/** Describe portal '', Execute portal '' (all rows), Sync: the same after every Bind. */
const TAIL = Buffer.from([
  0x44, 0, 0, 0, 6, 0x50, 0, // 'D' len 6, 'P', ''
  0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0, // 'E' len 9, '', 0 rows = no limit
  0x53, 0, 0, 0, 4, // 'S' len 4
]);

/** CopyFail 'No source stream defined', then Sync: what node-postgres answers a COPY ... FROM STDIN with. */
const COPY_FAIL = (() => {
  const reason = Buffer.from('No source stream defined\0');
  const b = Buffer.alloc(1 + 4 + reason.length + 5);
  b[0] = 0x66; // 'f'
  b.writeInt32BE(4 + reason.length, 1);
  reason.copy(b, 5);
  b.set([0x53, 0, 0, 0, 4], 5 + reason.length);
  return b;
})();

/** Parse (when `text` is given), Bind (parameters and results as text), Describe portal, Execute, Sync, in one buffer. */
export function encodeExecution(text: string | undefined, name: string, values: readonly (string | null)[]): Buffer {
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

/** A statement of ours waiting for its answer. */
interface Pending {
  readonly name: string;
  /** The text, when this execution parses the statement (recorded as parsed on its ParseComplete). */
  readonly parsing: string | undefined;
  readonly resolve: (r: TextResult) => void;
  readonly reject: (err: Error) => void;
  /** performance.now() past which the answer is too late (query timeout). */
  readonly deadline: number;
  rows: (string | null)[][];
  fields: string[];
  error: Error | undefined;
  /** The error ends the connection (FATAL, PANIC): no ReadyForQuery follows, the socket closes. */
  fatal: boolean;
  /** A message that only begins an answer (ParseComplete, BindComplete, ErrorResponse) has come. */
  begun: boolean;
}

/**
 * One pooled connection's hot path: the script interpreter's {@link ScriptConnection}. Made
 * once per node-postgres client (its 'data' listener is replaced at construction).
 */
export class WireConnection implements ScriptConnection {
  private readonly stream: PgInternals['connection']['stream'];
  /** Statements parsed on this connection: name -> text. */
  private readonly parsed = new Map<string, string>();
  private pending: Pending | undefined;
  /** The start of a message that straddles chunks, in the chunks it came in (joined once it is whole). */
  private readonly partial: Buffer[] = [];
  private partialBytes = 0;
  /** How many bytes the straddling message needs: its whole length once its header is in, 5 until then. */
  private partialNeed = 0;
  /** From the last ReadyForQuery this read; undefined once node-postgres ran a query since. */
  private status: string | undefined;
  /** Why the connection cannot be used any more (its socket closed or failed, a timeout, a protocol error). */
  private broken: Error | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: pg.ClientBase,
    /** Bounds each statement when its server does not answer (node-postgres's query_timeout, which this path does not go through). */
    private readonly queryTimeoutMs: number,
    /** Called as an answer (or an error) arrives, before its promise settles (a Clock's nudge). */
    private readonly onAnswer?: () => void,
  ) {
    this.stream = (client as unknown as PgInternals).connection.stream;
    const theirs = this.stream.listeners('data') as DataListener[];
    if (theirs.length !== 1) throw new Error(`expected node-postgres's one 'data' listener on its socket, found ${theirs.length}`);
    const pgData = theirs[0]!;
    this.stream.removeListener('data', pgData);
    this.stream.on('data', (chunk: Buffer) => {
      if (this.pending === undefined) pgData(chunk);
      else {
        const rest = this.read(chunk);
        if (rest !== undefined) pgData(rest);
      }
    });
    // node-postgres reports these on the client too (Pools listens there); here they end a statement in flight.
    this.stream.on('error', (err: Error) => this.fail(err));
    this.stream.on('close', () => this.fail(new Error('Connection terminated unexpectedly')));
  }

  execute(name: string, text: string, values: readonly (string | null)[]): Promise<TextResult> {
    if (this.broken) return Promise.reject(this.broken);
    // Worded as a lost connection (class 08, handlers/db/errors.ts), so the pool discards it.
    if (!this.stream.writable) return Promise.reject(new Error('Connection terminated: its socket is closed'));
    if (this.pending) return Promise.reject(new Error('a statement is already in flight on this connection'));
    const known = this.parsed.get(name);
    if (known !== undefined && known !== text) return Promise.reject(new Error(`Prepared statements must be unique - '${name}' was used for a different statement`));
    // node-postgres may still await the end of an answer to a query of its own (it fails a query
    // on its ErrorResponse, before the ReadyForQuery that ends it): the socket is its until then.
    if (!this.pgIdle()) return this.afterPg().then(() => this.execute(name, text, values));
    return new Promise<TextResult>((resolve, reject) => {
      this.pending = {
        name, parsing: known === undefined ? text : undefined, resolve, reject, deadline: performance.now() + this.queryTimeoutMs,
        rows: [], fields: [], error: undefined, fatal: false, begun: false,
      };
      this.status = undefined;
      this.armTimer();
      this.stream.write(encodeExecution(known === undefined ? text : undefined, name, values));
    });
  }

  /** True when node-postgres has no query of its own in flight or queued on the connection. */
  private pgIdle(): boolean {
    const c = this.client as unknown as { readyForQuery: boolean; _queryQueue: readonly unknown[] };
    return c.readyForQuery === true && c._queryQueue.length === 0;
  }

  /**
   * Resolves when node-postgres is done with the connection (its 'drain', after the ReadyForQuery
   * that ends its last query); fails as the connection does if that never comes within the query
   * timeout.
   */
  private afterPg(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const end = (err?: Error): void => {
        clearTimeout(timer);
        this.client.removeListener('drain', drained);
        this.stream.removeListener('close', closed);
        if (err) reject(err);
        else resolve();
      };
      const drained = (): void => end();
      const closed = (): void => end(this.broken ?? new Error('Connection terminated unexpectedly'));
      const timer = setTimeout(() => {
        const err = new Error('Query read timeout');
        this.broken ??= err;
        this.stream.destroy();
        end(err);
      }, this.queryTimeoutMs).unref();
      this.client.once('drain', drained);
      this.stream.once('close', closed);
    });
  }

  /** Through node-postgres (ROLLBACK): it reads its own answer. */
  query(text: string): Promise<unknown> {
    this.status = undefined;
    return this.client.query(text);
  }

  getTransactionStatus(): string | null {
    return this.status ?? this.client.getTransactionStatus();
  }

  /**
   * Read `chunk` as the answer to the pending statement, up to its ReadyForQuery; returns what
   * follows it, for node-postgres.
   */
  private read(chunk: Buffer): Buffer | undefined {
    let buf = chunk;
    if (this.partialBytes > 0) {
      this.partial.push(chunk);
      this.partialBytes += chunk.length;
      // A long row comes in many chunks: joined once, when it is whole, not once per chunk.
      if (this.partialBytes < this.partialNeed) return undefined;
      buf = Buffer.concat(this.partial, this.partialBytes);
      this.partial.length = 0;
      this.partialBytes = 0;
    }
    let o = 0;
    while (this.pending !== undefined && o + 5 <= buf.length) {
      const len = buf.readInt32BE(o + 1);
      if (len < 4) return void this.fail(new Error(`Connection terminated: the server sent an invalid protocol message (length ${len})`), true);
      const end = o + 1 + len;
      if (end > buf.length) break;
      this.message(buf[o]!, buf, o + 5, end);
      o = end;
    }
    if (this.pending !== undefined) {
      if (o < buf.length) {
        this.partial.push(buf.subarray(o));
        this.partialBytes = buf.length - o;
        this.partialNeed = this.partialBytes >= 5 ? 1 + buf.readInt32BE(o + 1) : 5;
      }
      return undefined;
    }
    return o < buf.length ? buf.subarray(o) : undefined;
  }

  /** One message of the pending statement's answer: its type, its body at [at, end). */
  private message(type: number, buf: Buffer, at: number, end: number): void {
    const p = this.pending!;
    if (!p.begun) {
      if (type === 0x31 || type === 0x32 || type === 0x45) p.begun = true;
      // Anything else but an asynchronous message (a notice, a parameter change, a notification)
      // before the answer begins belongs to another answer: the connection is out of step.
      else if (type !== 0x4e && type !== 0x53 && type !== 0x41) {
        return this.fail(new Error(`Connection terminated: an answer out of step with its statement began with message '${String.fromCharCode(type)}'`), true);
      }
    }
    switch (type) {
      case 0x31: // '1' ParseComplete
        if (p.parsing !== undefined) this.parsed.set(p.name, p.parsing);
        return;
      case 0x54: // 'T' RowDescription: the column names
        p.fields = rowDescription(buf, at);
        return;
      case 0x44: // 'D' DataRow
        p.rows.push(dataRow(buf, at));
        return;
      case 0x45: // 'E' ErrorResponse: the statement failed; ReadyForQuery follows
        p.error = databaseError(buf, at, end);
        p.fatal = isFatal(buf, at, end);
        return;
      case 0x47: // 'G' CopyInResponse: no data to send, as with node-postgres's own queries
        // The Sync sent with the Execute was ignored in copy-in mode, and after the CopyFail the
        // server discards everything until a Sync ("COPY Operations", PostgreSQL protocol flow).
        this.stream.write(COPY_FAIL);
        return;
      case 0x5a: { // 'Z' ReadyForQuery: the answer is complete
        this.status = String.fromCharCode(buf[at]!);
        this.pending = undefined;
        this.onAnswer?.();
        if (p.error) p.reject(p.error);
        else p.resolve({ rows: p.rows, fields: p.fields });
        return;
      }
      // BindComplete, NoData, CommandComplete, EmptyQueryResponse, PortalSuspended (never: the
      // Execute asks for every row), CopyOutResponse and its CopyData and CopyDone, a NoticeResponse,
      // ParameterStatus or NotificationResponse: nothing a script reads.
      default:
        return;
    }
  }

  /**
   * End the pending statement with `err` and make the connection unusable: its socket is gone, or
   * its answer will never be read in step again. `destroy`: close the socket too.
   */
  private fail(err: Error, destroy = false): void {
    const p = this.pending;
    this.pending = undefined;
    this.partial.length = 0;
    this.partialBytes = 0;
    // A server that ends the connection says why first (a FATAL ErrorResponse, e.g. 57P01 when it
    // is shut down or the backend terminated): that is the statement's error, as in node-postgres.
    // An ordinary error followed by a lost connection is a lost connection (class 08).
    const reason = p?.error !== undefined && p.fatal ? p.error : err;
    // What a later statement on it meets: the connection is gone.
    this.broken ??= err;
    if (destroy) this.stream.destroy();
    if (p) {
      this.onAnswer?.();
      p.reject(reason);
    }
  }

  /**
   * One timer per connection, not one per statement: when it fires, a statement still waiting past
   * its deadline fails as node-postgres's query_timeout does ("Query read timeout", counted as
   * class 08), and the connection is closed, since its answer may still come; otherwise it is
   * armed again for the pending statement's deadline, or not at all.
   */
  private armTimer(): void {
    if (this.timer !== undefined) return;
    const check = (): void => {
      this.timer = undefined;
      const p = this.pending;
      if (!p) return;
      const left = p.deadline - performance.now();
      if (left > 0) {
        this.timer = setTimeout(check, left + 1).unref();
        return;
      }
      this.fail(new Error('Query read timeout'), true);
    };
    // Unref'd: a process whose work is done does not wait for it.
    this.timer = setTimeout(check, this.queryTimeoutMs + 1).unref();
  }
}

/** RowDescription: the column names (each field: name, then 18 bytes of table, type and format). */
function rowDescription(buf: Buffer, at: number): string[] {
  const n = buf.readInt16BE(at);
  const names = new Array<string>(n);
  let o = at + 2;
  for (let i = 0; i < n; i++) {
    const z = buf.indexOf(0, o);
    names[i] = buf.toString('utf8', o, z);
    o = z + 1 + 18;
  }
  return names;
}

/** DataRow: each column as text, SQL NULL as null. */
function dataRow(buf: Buffer, at: number): (string | null)[] {
  const n = buf.readInt16BE(at);
  const row = new Array<string | null>(n);
  let o = at + 2;
  for (let i = 0; i < n; i++) {
    const len = buf.readInt32BE(o);
    o += 4;
    if (len < 0) row[i] = null;
    else {
      row[i] = buf.toString('utf8', o, o + len);
      o += len;
    }
  }
  return row;
}

/** Whether an ErrorResponse ends the session: its severity (the unlocalised V field, else S) is FATAL or PANIC. */
function isFatal(buf: Buffer, at: number, end: number): boolean {
  let severity: string | undefined;
  let o = at;
  while (o < end && buf[o] !== 0) {
    const type = buf[o]!;
    const z = buf.indexOf(0, o + 1);
    if (type === 0x56) return /^(FATAL|PANIC)$/.test(buf.toString('utf8', o + 1, z)); // 'V'
    if (type === 0x53) severity = buf.toString('utf8', o + 1, z); // 'S'
    o = z + 1;
  }
  return severity === 'FATAL' || severity === 'PANIC';
}

/** ErrorResponse as node-postgres gives it (pg-protocol's DatabaseError, the same fields). */
function databaseError(buf: Buffer, at: number, end: number): pg.DatabaseError {
  const fields: Record<string, string> = {};
  let o = at;
  while (o < end && buf[o] !== 0) {
    const type = String.fromCharCode(buf[o]!);
    const z = buf.indexOf(0, o + 1);
    fields[type] = buf.toString('utf8', o + 1, z);
    o = z + 1;
  }
  const err = new pg.DatabaseError(fields.M ?? 'unknown error', end - at + 4, 'error');
  Object.assign(err, {
    severity: fields.S, code: fields.C, detail: fields.D, hint: fields.H, position: fields.P,
    internalPosition: fields.p, internalQuery: fields.q, where: fields.W, schema: fields.s, table: fields.t,
    column: fields.c, dataType: fields.d, constraint: fields.n, file: fields.F, line: fields.L, routine: fields.R,
  });
  return err;
}
