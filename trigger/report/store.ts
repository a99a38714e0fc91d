import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LIMITS } from '../../handlers/protocol/limits';
import { UsageError } from '../errors';
import type { RunSummary } from './summary';

/** A run as saved under `.runs/`: the summary, plus what `report` needs to read CloudWatch again. */
export interface SavedRun {
  readonly summary: RunSummary;
  /** AWS runs: where the metrics live, so `report` can re-read them later. */
  readonly cloud?: { readonly region: string; readonly namespace: string; readonly startMs: number; readonly endMs: number };
}

/** Saved runs live in `.runs/` under the current directory (gitignored). */
export class RunStore {
  constructor(readonly dir: string = join(process.cwd(), '.runs')) {}

  async save(run: SavedRun): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `${run.summary.runId}.json`);
    await writeFile(file, `${JSON.stringify(run, null, 2)}\n`);
    return file;
  }

  /** The saved run, or undefined when there is none by that id. */
  async load(runId: string): Promise<SavedRun | undefined> {
    if (!LIMITS.runIdPattern.test(runId)) throw new UsageError(`--run "${runId}" is not a run id (letters, digits, ".", "_", "-")`);
    try {
      return JSON.parse(await readFile(join(this.dir, `${runId}.json`), 'utf8')) as SavedRun;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** The id of the most recently saved run, or undefined when none was saved here. */
  async latest(): Promise<string | undefined> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((f) => f.endsWith('.json'));
    } catch {
      return undefined;
    }
    let best: { id: string; t: number } | undefined;
    for (const name of names) {
      const t = (await stat(join(this.dir, name))).mtimeMs;
      if (!best || t > best.t) best = { id: name.slice(0, -'.json'.length), t };
    }
    return best?.id;
  }
}
