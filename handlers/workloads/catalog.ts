/**
 * The workloads: one folder each under `workloads/`, holding an optional `init.sql` and one or
 * more pgbench scripts `<script>.sql`. A script's name is an operation of its workload, and runs
 * on the reader or the writer (its `-- target:` header, else inferred from its statements).
 *
 * The catalog is built from the files' text alone (no file system here), so the worker builds it
 * from the scripts bundled with it and the trigger from the folder on disk, by the same code.
 * Every problem is one line, `workloads/<name>/<file>:<line>: ...`.
 */
import { createHash } from 'node:crypto';
import { parseScript, ScriptError, type ParsedScript, type Target } from './script/parse';
import { ScanError, scanScript } from './script/scan';

export type { Target } from './script/parse';
/** The kind of traffic an operation makes: reads go to the reader, writes to the writer. */
export type OpKind = 'read' | 'write';
/** A workload's name: the name of its folder under `workloads/`. */
export type WorkloadName = string;

/** The kind of an operation that runs on `target`. */
export function kindOf(target: Target): OpKind {
  return target === 'reader' ? 'read' : 'write';
}

/** File contents by path relative to `workloads/`, e.g. `{"shop/lookup.sql": "..."}`. */
export type WorkloadFiles = Readonly<Record<string, string>>;

/** Workload and script names: they become CLI words, metric dimensions and prepared-statement names. */
export const NAME_PATTERN = /^[a-z][a-z0-9_-]{0,39}$/;
/** Script names the CLI's `--mix` reserves (`read=`, `write=`); `init.sql` is the init file. */
const RESERVED_SCRIPT_NAMES = new Set(['read', 'write']);
/** Workloads whose schema a built-in loader creates, as `pgbench -i` does for tpcb. */
export const BUILTIN_LOADERS = new Set(['tpcb']);

/** A script's identity in messages: 16 hex digits of the SHA-256 of its text (line ends normalised). */
export function contentHash(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex').slice(0, 16);
}

export interface Script {
  readonly workload: string;
  /** The operation name: the file name without `.sql`. */
  readonly name: string;
  /** `workloads/<workload>/<name>.sql`, as errors name it. */
  readonly file: string;
  readonly hash: string;
  readonly target: Target;
  readonly parsed: ParsedScript;
}

export interface Workload {
  readonly name: WorkloadName;
  /** Scripts by operation name, sorted by name. */
  readonly scripts: ReadonlyMap<string, Script>;
  /** `init.sql`: idempotent schema and data, run on the writer before a run and on deploy. */
  readonly init?: { readonly file: string; readonly sql: string; readonly hash: string };
  /** True when a built-in loader creates the schema (tpcb) and `:scale` comes from its tables. */
  readonly builtinLoader: boolean;
}

/** The scripts of one workload, and what is wrong with the others. */
export class Catalog {
  constructor(
    private readonly workloads: ReadonlyMap<string, Workload>,
    /** Every problem found, one line each, in file order. */
    readonly problems: readonly { readonly workload: string; readonly line: string }[],
  ) {}

  /** Names of the workloads that parsed cleanly, sorted. */
  get names(): string[] {
    return [...this.workloads.keys()].sort();
  }

  has(name: unknown): name is WorkloadName {
    return typeof name === 'string' && this.workloads.has(name);
  }

  get(name: WorkloadName): Workload | undefined {
    return this.workloads.get(name);
  }

  /** The problems of one workload (empty when it is fine or unknown). */
  problemsOf(name: string): string[] {
    return this.problems.filter((p) => p.workload === name).map((p) => p.line);
  }

  /** Every operation of a workload and the endpoint it runs on; empty for an unknown workload. */
  operationsOf(workload: WorkloadName): { op: string; target: Target }[] {
    const w = this.workloads.get(workload);
    return w ? [...w.scripts.values()].map((s) => ({ op: s.name, target: s.target })) : [];
  }

  /**
   * The script `read=` or `write=` means in `--mix`: the workload's only script on that target.
   * Undefined when it has none; an error lists them when it has several.
   */
  defaultOp(workload: WorkloadName, target: Target): string | undefined {
    const ops = this.operationsOf(workload).filter((o) => o.target === target).map((o) => o.op);
    if (ops.length > 1) {
      throw new WorkloadError([`workload ${workload} has several ${target} scripts (${ops.join(', ')}): name them in --mix instead of ${target === 'reader' ? 'read' : 'write'}=`]);
    }
    return ops[0];
  }
}

/**
 * Problems with workload files; the message is their lines, one per problem. A mistake in a
 * script, not a bug: its stack is the message alone, so every report shows just the lines.
 */
export class WorkloadError extends Error {
  override readonly name = 'WorkloadError';
  constructor(readonly lines: readonly string[]) {
    super(lines.join('\n'));
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Build the catalog from the files of `workloads/`. Never throws for a bad file: see `problems`. */
export function buildCatalog(files: WorkloadFiles): Catalog {
  const byWorkload = new Map<string, Map<string, string>>();
  for (const [rel, text] of Object.entries(files)) {
    const m = /^([^/]+)\/([^/]+)$/.exec(rel);
    if (!m) continue;
    let w = byWorkload.get(m[1]!);
    if (!w) byWorkload.set(m[1]!, (w = new Map()));
    w.set(m[2]!, text);
  }
  const workloads = new Map<string, Workload>();
  const problems: { workload: string; line: string }[] = [];
  for (const name of [...byWorkload.keys()].sort()) {
    const fileMap = byWorkload.get(name)!;
    const own: string[] = [];
    const where = `workloads/${name}`;
    if (!NAME_PATTERN.test(name)) {
      own.push(`${where}: a workload's folder name must be 1-40 lowercase letters, digits, "-" or "_", starting with a letter`);
    }
    const builtinLoader = BUILTIN_LOADERS.has(name);
    let init: Workload['init'];
    const scripts = new Map<string, Script>();
    for (const fileName of [...fileMap.keys()].sort()) {
      const text = fileMap.get(fileName)!;
      const file = `${where}/${fileName}`;
      if (!fileName.endsWith('.sql')) continue;
      const op = fileName.slice(0, -'.sql'.length);
      if (op === 'init') {
        if (builtinLoader) own.push(`${file}:1: ${name}'s schema is created by its built-in loader (as pgbench -i does): remove init.sql`);
        else {
          const problem = initProblem(text);
          if (problem) own.push(`${file}:${problem.line}: ${problem.message}`);
          else init = { file, sql: text, hash: contentHash(text) };
        }
        continue;
      }
      if (!NAME_PATTERN.test(op) || RESERVED_SCRIPT_NAMES.has(op)) {
        own.push(`${file}:1: a script's name must be 1-40 lowercase letters, digits, "-" or "_", starting with a letter, and not read or write (those mean a target in --mix)`);
        continue;
      }
      try {
        const parsed = parseScript(text, file);
        scripts.set(op, { workload: name, name: op, file, hash: contentHash(text), target: parsed.target, parsed });
      } catch (e) {
        if (!(e instanceof ScriptError)) throw e;
        own.push(e.message);
      }
    }
    if (scripts.size === 0 && own.length === 0) own.push(`${where}: no scripts: add at least one <script>.sql in pgbench's script language`);
    if (own.length) {
      for (const line of own) problems.push({ workload: name, line });
      continue;
    }
    workloads.set(name, { name, scripts, ...(init ? { init } : {}), builtinLoader });
  }
  return new Catalog(workloads, problems);
}

/** Throw a {@link WorkloadError} listing every problem, if there is any. */
export function assertValid(catalog: Catalog): void {
  if (catalog.problems.length) throw new WorkloadError(catalog.problems.map((p) => p.line));
}

/**
 * init.sql runs as one multi-statement query: plain SQL, no psql or pgbench backslash commands
 * and no variables.
 */
function initProblem(text: string): { line: number; message: string } | undefined {
  try {
    const items = scanScript(text);
    const meta = items.find((i) => i.kind === 'meta');
    if (meta) return { line: meta.line, message: `init.sql is plain SQL: backslash commands (\\${meta.name}) are not run` };
    const withVariable = items.find((i) => i.kind === 'sql' && i.params.length > 0);
    if (withVariable && withVariable.kind === 'sql') {
      return { line: withVariable.line, message: `init.sql is plain SQL: :${withVariable.params[0]} is not a variable there` };
    }
    if (items.length === 0) return { line: 1, message: 'init.sql has no statements: remove it, or add the schema' };
  } catch (e) {
    if (e instanceof ScanError) return { line: e.line, message: e.message };
    throw e;
  }
  return undefined;
}
