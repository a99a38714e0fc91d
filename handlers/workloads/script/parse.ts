/**
 * A pgbench script file parsed into the commands the interpreter runs. Everything pgbench checks
 * when it loads a script is checked here (meta-command arguments, expressions, \if nesting), plus
 * what cannot run in Lambda (\shell, \setshell, pipelines) and what a bind parameter cannot be.
 * Errors are one line each: `file:line: message`.
 */
import { ExprSyntaxError, parseExpr, variablesOf, type Expr } from './expr';
import { writingWord } from './routing';
import { ScanError, scanScript, type MetaItem, type SqlItem } from './scan';

export type Target = 'reader' | 'writer';

export interface SqlCommand {
  readonly kind: 'sql';
  readonly line: number;
  readonly text: string;
  readonly params: readonly string[];
  /** `\gset [prefix]` / `\aset [prefix]` after the statement: store its result row in variables. */
  readonly store?: { readonly mode: 'gset' | 'aset'; readonly prefix: string };
  /** The keyword that makes the statement a write, if any (see routing.ts). */
  readonly writes?: string;
}

export interface SleepCommand {
  readonly kind: 'sleep';
  readonly line: number;
  readonly amount: { readonly value: number } | { readonly variable: string };
  /** Microseconds per unit of `amount`. */
  readonly unitUs: number;
}

export type Command =
  | SqlCommand
  | { readonly kind: 'set'; readonly line: number; readonly variable: string; readonly expr: Expr }
  | SleepCommand
  /** `next`: index of the following \elif, \else or \endif of the same \if. */
  | { readonly kind: 'if'; readonly line: number; readonly expr: Expr; next: number }
  | { readonly kind: 'elif'; readonly line: number; readonly expr: Expr; next: number; end: number }
  /** `end`: index of the \endif that closes the \if. */
  | { readonly kind: 'else'; readonly line: number; end: number }
  | { readonly kind: 'endif'; readonly line: number };

export interface ParsedScript {
  readonly commands: readonly Command[];
  /** Where the script runs: its `-- target:` header, else reader when no statement writes. */
  readonly target: Target;
  /** True when the target came from the header rather than from the statements. */
  readonly declared: boolean;
  /** Variables the script reads (in SQL and expressions), for `node trigger workloads`. */
  readonly reads: ReadonlySet<string>;
  /** Variables the script assigns with \set. */
  readonly sets: ReadonlySet<string>;
  /** True when \gset or \aset can set variables whose names only the server knows. */
  readonly stores: boolean;
}

/** One or more problems with a script; each line of `message` is `file:line: problem`. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError';
  constructor(readonly file: string, readonly line: number, readonly problem: string) {
    super(`${file}:${line}: ${problem}`);
  }
}

/** pgbench's valid_variable_name. */
export function isVariableName(name: string): boolean {
  return /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*$/.test(name);
}

const TARGET_HEADER = /^\s*--\s*target\s*:\s*(.*?)\s*$/i;

const REFUSED: Readonly<Record<string, string>> = {
  shell: '\\shell is not supported: the worker runs no commands (a script is code that runs in Lambda)',
  setshell: '\\setshell is not supported: the worker runs no commands (a script is code that runs in Lambda)',
  startpipeline: '\\startpipeline is not supported: node-postgres has no pipeline mode',
  syncpipeline: '\\syncpipeline is not supported: node-postgres has no pipeline mode',
  endpipeline: '\\endpipeline is not supported: node-postgres has no pipeline mode',
};

/** Parse a script. `file` is how errors name it (e.g. `workloads/shop/lookup.sql`). */
export function parseScript(source: string, file: string): ParsedScript {
  const fail = (line: number, problem: string): never => {
    throw new ScriptError(file, line, problem);
  };
  const lines = source.split('\n');
  let declaredTarget: Target | undefined;
  lines.forEach((text, index) => {
    const m = TARGET_HEADER.exec(text);
    if (!m) return;
    if (index !== 0) fail(index + 1, '"-- target:" must be the first line of the script');
    const value = m[1]!.toLowerCase();
    if (value !== 'reader' && value !== 'writer') fail(1, `"-- target: ${m[1]}" must be reader or writer`);
    declaredTarget = value as Target;
  });

  let items;
  try {
    items = scanScript(source);
  } catch (e) {
    if (e instanceof ScanError) fail(e.line, e.message);
    throw e;
  }

  const commands: Command[] = [];
  const reads = new Set<string>();
  const sets = new Set<string>();
  let stores = false;
  const open: number[] = [];
  const parseExpression = (text: string, item: MetaItem): Expr => {
    try {
      const e = parseExpr(text);
      variablesOf(e, reads);
      return e;
    } catch (err) {
      if (err instanceof ExprSyntaxError) fail(item.line, `\\${item.name}: ${err.message} (column ${err.column} of "${text}")`);
      throw err;
    }
  };

  for (const item of items) {
    if (item.kind === 'sql') {
      commands.push(sqlCommand(item, fail));
      for (const p of item.params) reads.add(p);
      continue;
    }
    const refused = REFUSED[item.name];
    if (refused) fail(item.line, refused);
    const words = item.rest.split(/\s+/).filter(Boolean);
    switch (item.name) {
      case 'set': {
        const m = /^(\S+)\s*([\s\S]*)$/.exec(item.rest);
        if (!m) fail(item.line, '\\set: missing argument (\\set name expression)');
        const variable = m![1]!;
        if (!isVariableName(variable)) fail(item.line, `\\set: invalid variable name "${variable}"`);
        const expr = parseExpression(m![2]!, item);
        sets.add(variable);
        commands.push({ kind: 'set', line: item.line, variable, expr });
        break;
      }
      case 'sleep': {
        const sleep = sleepCommand(item, words, fail);
        if ('variable' in sleep.amount) reads.add(sleep.amount.variable);
        commands.push(sleep);
        break;
      }
      case 'gset':
      case 'aset': {
        if (words.length > 1) fail(item.line, `\\${item.name}: too many arguments (at most a variable-name prefix)`);
        const prev = commands[commands.length - 1];
        if (!prev || prev.kind !== 'sql' || prev.store) fail(item.line, `\\${item.name} must follow an SQL command`);
        const sql = prev as SqlCommand;
        commands[commands.length - 1] = { ...sql, store: { mode: item.name as 'gset' | 'aset', prefix: words[0] ?? '' } };
        stores = true;
        break;
      }
      case 'if':
        open.push(commands.length);
        commands.push({ kind: 'if', line: item.line, expr: parseExpression(item.rest, item), next: -1 });
        break;
      case 'elif':
      case 'else': {
        if (item.name === 'else' && words.length) fail(item.line, '\\else: unexpected argument');
        const at = open[open.length - 1];
        if (at === undefined) fail(item.line, `\\${item.name} without matching \\if`);
        const chain = chainOf(commands, at!);
        const last = commands[chain[chain.length - 1]!]!;
        if (last.kind === 'else') fail(item.line, `\\${item.name} after \\else`);
        (last as { next: number }).next = commands.length;
        commands.push(item.name === 'elif'
          ? { kind: 'elif', line: item.line, expr: parseExpression(item.rest, item), next: -1, end: -1 }
          : { kind: 'else', line: item.line, end: -1 });
        break;
      }
      case 'endif': {
        if (words.length) fail(item.line, '\\endif: unexpected argument');
        const at = open.pop();
        if (at === undefined) fail(item.line, '\\endif without matching \\if');
        const end = commands.length;
        for (const index of chainOf(commands, at!)) {
          const c = commands[index]!;
          if ((c.kind === 'if' || c.kind === 'elif') && c.next === -1) c.next = end;
          if (c.kind === 'elif' || c.kind === 'else') c.end = end;
        }
        commands.push({ kind: 'endif', line: item.line });
        break;
      }
      case '':
        fail(item.line, 'a backslash must be followed by a command (\\set, \\sleep, \\if, \\gset, ...)');
        break;
      default:
        fail(item.line, `\\${item.name}: invalid command`);
    }
  }
  if (open.length) fail(commands[open[open.length - 1]!]!.line, '\\if without matching \\endif');
  if (commands.length === 0) fail(1, 'the script has no commands');

  const writer = commands.find((c): c is SqlCommand => c.kind === 'sql' && c.writes !== undefined);
  if (declaredTarget === 'reader' && writer) {
    fail(writer.line, `the script says "-- target: reader" but this statement writes (${writer.writes}); a standby refuses it: make it "-- target: writer"`);
  }
  return {
    commands,
    target: declaredTarget ?? (writer ? 'writer' : 'reader'),
    declared: declaredTarget !== undefined,
    reads,
    sets,
    stores,
  };
}

/** Indexes of an \if and its \elif / \else commands, in order. */
function chainOf(commands: readonly Command[], at: number): number[] {
  const chain = [at];
  for (;;) {
    const c = commands[chain[chain.length - 1]!]!;
    const next = c.kind === 'if' || c.kind === 'elif' ? c.next : -1;
    if (next === -1) return chain;
    chain.push(next);
  }
}

function sqlCommand(item: SqlItem, fail: (line: number, problem: string) => never): SqlCommand {
  if (item.compound) {
    fail(item.line, 'compound statements (\\;) need pgbench\'s simple query mode; here variables are bind parameters, so write one statement per command');
  }
  const writes = writingWord(item.code);
  return { kind: 'sql', line: item.line, text: item.text, params: item.params, ...(writes ? { writes } : {}) };
}

function sleepCommand(item: MetaItem, words: string[], fail: (line: number, problem: string) => never): SleepCommand {
  if (words.length === 0) fail(item.line, '\\sleep: missing argument (\\sleep number [us|ms|s])');
  if (words.length > 2) fail(item.line, '\\sleep: too many arguments (\\sleep number [us|ms|s])');
  let [amount, unit] = words as [string, string | undefined];
  if (!amount.startsWith(':')) {
    const m = /^([+-]?\d+)(.*)$/.exec(amount);
    if (!m) fail(item.line, `\\sleep: invalid sleep time "${amount}", must be an integer`);
    if (m![2] !== '') {
      if (unit !== undefined) fail(item.line, `\\sleep: invalid sleep time "${amount}", must be an integer`);
      unit = m![2];
    }
    amount = m![1]!;
  }
  const u = (unit ?? 's').toLowerCase();
  if (u !== 'us' && u !== 'ms' && u !== 's') fail(item.line, `\\sleep: unrecognized time unit "${unit}", must be us, ms or s`);
  const unitUs = u === 'us' ? 1 : u === 'ms' ? 1_000 : 1_000_000;
  if (amount.startsWith(':')) {
    const variable = amount.slice(1);
    if (!isVariableName(variable)) fail(item.line, `\\sleep: invalid variable name "${variable}"`);
    return { kind: 'sleep', line: item.line, amount: { variable }, unitUs };
  }
  return { kind: 'sleep', line: item.line, amount: { value: Number(amount) }, unitUs };
}
