/**
 * The books of a drill: every message sent is either done (deleted after success) or in the
 * dead-letter queue, duplicates (redeliveries) are counted, and the database holds exactly what the
 * successful writes say, give or take the writes whose outcome the client could not know. Pure.
 */

/** The SQLSTATE classes after which a write may or may not have committed: the connection broke. */
export const IN_DOUBT_CLASSES: readonly string[] = ['08', '57'];

export interface ReconcileInput {
  /** Messages the drill sent. */
  readonly sent: number;
  /** Messages deleted after a successful invocation. */
  readonly succeeded: number;
  /** Messages moved to the dead-letter queue. */
  readonly deadLettered: number;
  /** Messages still visible or in flight at the end (a drained queue has none). */
  readonly stillQueued: number;
  /** Receives of a message after its first one: each ran the message again. */
  readonly redelivered: number;
  /** `seq` of every dead-lettered message of the run, when read back from the DLQ. */
  readonly deadLetterSeqs?: readonly number[];
  /** The write statements: how many succeeded, and failures by SQLSTATE class. */
  readonly writes: { readonly ok: number; readonly errorsByClass: Readonly<Record<string, number>> };
  /** Rows the writes add (inserted rows, or history rows for tpcb), before and after. */
  readonly rows?: { readonly before: number; readonly after: number };
  /** TPC-B's consistency condition, when the workload is tpcb: every balance total equals the history total. */
  readonly balances?: { readonly accounts: number; readonly tellers: number; readonly branches: number; readonly history: number };
  /** Invocations that were still running at the function timeout (their metrics never published). */
  readonly timedOut?: number;
}

export interface Reconciliation {
  /** True when every check holds. */
  readonly ok: boolean;
  readonly messages: {
    readonly sent: number;
    readonly succeeded: number;
    readonly deadLettered: number;
    readonly stillQueued: number;
    /** sent - succeeded - deadLettered - stillQueued: messages that vanished (must be 0). */
    readonly lost: number;
    /** Extra runs of messages through redelivery. */
    readonly duplicates: number;
  };
  readonly rows?: {
    readonly added: number;
    /** Successful writes: each added its row. */
    readonly min: number;
    /** Plus the writes cut off by a broken connection, which may have committed anyway. */
    readonly max: number;
  };
  /** One line per check that failed. */
  readonly problems: readonly string[];
}

export function reconcile(input: ReconcileInput): Reconciliation {
  const problems: string[] = [];
  const lost = input.sent - input.succeeded - input.deadLettered - input.stillQueued;
  if (lost !== 0) {
    problems.push(lost > 0
      ? `${lost} message(s) lost: sent ${input.sent} != succeeded ${input.succeeded} + dead-lettered ${input.deadLettered} + still queued ${input.stillQueued}`
      : `${-lost} message(s) counted twice: succeeded ${input.succeeded} + dead-lettered ${input.deadLettered} + still queued ${input.stillQueued} > sent ${input.sent}`);
  }
  if (input.stillQueued > 0) problems.push(`${input.stillQueued} message(s) still queued: the drill ended before the queue drained`);
  if (input.timedOut) problems.push(`${input.timedOut} invocation(s) still running at the function timeout: what they measured was never published`);
  if (input.deadLetterSeqs) {
    const seqs = input.deadLetterSeqs;
    if (seqs.length !== input.deadLettered) problems.push(`the dead-letter queue holds ${seqs.length} message(s) of the run, but ${input.deadLettered} were moved there`);
    if (new Set(seqs).size !== seqs.length) problems.push('a message is in the dead-letter queue twice');
    const outside = seqs.filter((s) => !(Number.isInteger(s) && s >= 0 && s < input.sent));
    if (outside.length) problems.push(`dead-lettered message(s) with seq ${outside.slice(0, 5).join(', ')} that the drill never sent`);
  }
  let rows: Reconciliation['rows'];
  if (input.rows) {
    const added = input.rows.after - input.rows.before;
    const inDoubt = IN_DOUBT_CLASSES.reduce((n, c) => n + (input.writes.errorsByClass[c] ?? 0), 0);
    rows = { added, min: input.writes.ok, max: input.writes.ok + inDoubt };
    if (added < rows.min) problems.push(`${rows.min - added} successful write(s) missing from the table: ${added} rows added, ${rows.min} writes succeeded`);
    if (added > rows.max) problems.push(`${added - rows.max} row(s) more than the writes can explain: ${added} added, at most ${rows.max} (succeeded ${input.writes.ok} + in doubt ${inDoubt})`);
  }
  if (input.balances) {
    const b = input.balances;
    if (!(b.accounts === b.history && b.tellers === b.history && b.branches === b.history)) {
      problems.push(`TPC-B consistency broken: balances accounts ${b.accounts}, tellers ${b.tellers}, branches ${b.branches}, history ${b.history}`);
    }
  }
  return {
    ok: problems.length === 0,
    messages: {
      sent: input.sent, succeeded: input.succeeded, deadLettered: input.deadLettered, stillQueued: input.stillQueued,
      lost, duplicates: input.redelivered,
    },
    ...(rows ? { rows } : {}),
    problems,
  };
}

/** The reconciliation as a few lines. */
export function formatReconciliation(r: Reconciliation): string[] {
  const m = r.messages;
  const lines = [
    `messages: sent ${m.sent} = succeeded ${m.succeeded} + dead-lettered ${m.deadLettered}${m.stillQueued ? ` + still queued ${m.stillQueued}` : ''}${m.lost ? ` (${m.lost} unaccounted for)` : ''}; ${m.duplicates} duplicate run(s) through redelivery`,
  ];
  if (r.rows) lines.push(`rows: ${r.rows.added} added; successful writes ${r.rows.min}, at most ${r.rows.max} with the ones in doubt`);
  lines.push(r.ok ? 'reconciled: nothing lost' : `NOT reconciled: ${r.problems.join('; ')}`);
  return lines;
}
