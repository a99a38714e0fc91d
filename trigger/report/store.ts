import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LIMITS } from '../../handlers/protocol/limits';
import { UsageError } from '../errors';
import { RUN_RECORD_VERSION, type RunRecord } from './run-record';

/** Saved runs live in `.runs/` under the current directory (gitignored), one JSON file each. */
export class RunStore {
  constructor(readonly dir: string) {}

  async save(run: RunRecord): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `${run.runId}.json`);
    await writeFile(file, `${JSON.stringify(run)}\n`);
    return file;
  }

  /** The saved run, or undefined when there is none by that id. */
  async load(runId: string): Promise<RunRecord | undefined> {
    if (!LIMITS.runIdPattern.test(runId)) throw new UsageError(`--run "${runId}" is not a run id (letters, digits, ".", "_", "-")`);
    let text: string;
    try {
      text = await readFile(join(this.dir, `${runId}.json`), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const run = JSON.parse(text) as RunRecord;
    if (run.version !== RUN_RECORD_VERSION) {
      throw new UsageError(`.runs/${runId}.json was saved in another format (version ${String(run.version)}, this trigger reads ${RUN_RECORD_VERSION}): run the test again`);
    }
    return run;
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
