/**
 * Runs one transaction of a parsed script on one connection, as pgbench's client state machine
 * does: SQL commands as prepared statements with their variables bound as parameters, \set,
 * \sleep, \if / \elif / \else / \endif, \gset / \aset. An error ends the transaction: an open
 * transaction block is rolled back and the error is thrown (the caller counts it). A script that
 * ends inside a transaction block is an error too, as in pgbench.
 */
import { evaluate } from './evaluate';
import type { Command, ParsedScript, SleepCommand } from './parse';
import { isVariableName } from './parse';
import type { PgPrng } from './prng';
import { ScriptRuntimeError, truth } from './value';
import type { Variables } from './variables';

/** What the interpreter needs of a connection (handlers/db/wire.ts gives it for a node-postgres client). */
export interface ScriptConnection {
  /**
   * Run one SQL command as the named prepared statement `name` (`text`, parsed the first time),
   * its parameters bound as text, one round trip; the result comes back as PostgreSQL's text, as
   * libpq's PQgetvalue gives it to pgbench.
   */
  execute(name: string, text: string, values: readonly (string | null)[]): Promise<{ rows: (string | null)[][]; fields: string[] }>;
  query(text: string): Promise<unknown>;
  /** 'I' idle, 'T' in a transaction block, 'E' in a failed one; null before the first query. */
  getTransactionStatus(): string | null;
}

export interface RunContext {
  /** The message's variables (built-ins, -D); the transaction writes into a layer over them. */
  readonly variables: Variables;
  /** The client's random generator (shared by the message's transactions). */
  readonly rng: PgPrng;
  /** Wait for \sleep; may throw to end the transaction (deadline, interruption). */
  sleep(ms: number): Promise<void>;
}

/** A script ready to run: its commands and the prepared-statement name of each SQL command. */
export interface RunnableScript {
  readonly parsed: ParsedScript;
  /** `prefix + index` names each SQL command's prepared statement; unique per script content. */
  readonly statementPrefix: string;
}

/** Each SQL command's statement name (`prefix + index`), built once per script rather than per execution. */
const statementNames = new WeakMap<RunnableScript, readonly string[]>();

function namesOf(script: RunnableScript): readonly string[] {
  let names = statementNames.get(script);
  if (!names) {
    names = script.parsed.commands.map((_, pc) => `${script.statementPrefix}${pc}`);
    statementNames.set(script, names);
  }
  return names;
}

export async function runTransaction(script: RunnableScript, conn: ScriptConnection, ctx: RunContext): Promise<void> {
  const names = namesOf(script);
  const vars = ctx.variables.child();
  const evalCtx = { lookup: (name: string) => vars.value(name), rng: ctx.rng };
  const commands = script.parsed.commands;
  try {
    let pc = 0;
    while (pc < commands.length) {
      const c: Command = commands[pc]!;
      switch (c.kind) {
        case 'sql': {
          const values = c.params.map((p) => vars.text(p));
          const result = await conn.execute(names[pc]!, c.text, values);
          if (c.store) store(c.store, result, vars);
          pc++;
          break;
        }
        case 'set':
          vars.setValue(c.variable, evaluate(c.expr, evalCtx));
          pc++;
          break;
        case 'sleep':
          await ctx.sleep(sleepMs(c, vars));
          pc++;
          break;
        case 'if':
          pc = truth(evaluate(c.expr, evalCtx)) ? pc + 1 : branch(commands, c.next, evalCtx);
          break;
        case 'elif':
        case 'else':
          // Reached in sequence: the branch before it ran; skip to the end of the \if.
          pc = c.end + 1;
          break;
        case 'endif':
          pc++;
          break;
      }
    }
  } catch (err) {
    if (inTransaction(conn)) await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  if (inTransaction(conn)) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw new ScriptRuntimeError('end of script reached without completing the last transaction (add COMMIT or END)');
  }
}

function inTransaction(conn: ScriptConnection): boolean {
  const status = conn.getTransactionStatus();
  return status === 'T' || status === 'E';
}

/** Where a false \if or \elif goes: the first following \elif that holds, else past \else / \endif. */
function branch(commands: readonly Command[], at: number, ctx: Parameters<typeof evaluate>[1]): number {
  let i = at;
  for (;;) {
    const c = commands[i]!;
    if (c.kind !== 'elif') return i + 1;
    if (truth(evaluate(c.expr, ctx))) return i + 1;
    i = c.next;
  }
}

/** \gset: exactly one row, into variables; \aset: the last row of a non-empty result. */
function store(s: { mode: 'gset' | 'aset'; prefix: string }, result: { rows: (string | null)[][]; fields: string[] }, vars: Variables): void {
  const n = result.rows.length;
  if (s.mode === 'gset' && n !== 1) throw new ScriptRuntimeError(`\\gset expected one row, got ${n}`);
  if (n === 0) return;
  const row = result.rows[n - 1]!;
  result.fields.forEach((f, i) => {
    const name = `${s.prefix}${f}`;
    if (!isVariableName(name)) throw new ScriptRuntimeError(`\\${s.mode}: invalid variable name "${name}"`);
    // libpq gives an empty string for NULL; pgbench stores that.
    vars.setText(name, row[i] ?? '');
  });
}

/** evaluateSleep: a constant, or a variable read as C's atoi(); in microseconds, then ms. */
function sleepMs(c: SleepCommand, vars: Variables): number {
  let amount: number;
  if ('value' in c.amount) {
    amount = c.amount.value;
  } else {
    // pgbench reads a NULL value as the text "NULL" here.
    const text = vars.text(c.amount.variable) ?? 'NULL';
    const m = /^\s*([+-]?\d+)/.exec(text);
    amount = m ? Number(m[1]) : 0;
    if (amount === 0 && !/^\d/.test(text)) {
      throw new ScriptRuntimeError(`\\sleep: invalid sleep time "${text}" for variable "${c.amount.variable}"`);
    }
  }
  return Math.max(0, (amount * c.unitUs) / 1000);
}
