/**
 * As root, the servers run as the `postgres` OS user, which must be able to reach the binaries in
 * node_modules. A checkout under a private directory (e.g. /root, mode 700) hides them from it, and
 * initdb then fails with a bare "permission denied". In that case the binary tree (bin, lib, share:
 * its layout matters, the programs find each other relatively) is copied once to a world-readable
 * directory under the system temp directory and used from there.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServerBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

/** True when every directory above `file` lets others search it, and `file` lets others run it. */
export async function reachableByOthers(file: string): Promise<boolean> {
  const st = await fs.stat(file);
  if ((st.mode & 0o001) === 0) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const d = await fs.stat(dir);
    if ((d.mode & 0o001) === 0) return false;
    if (path.dirname(dir) === dir) return true;
  }
}

/**
 * The binaries as given when others can reach them; otherwise a copy of their tree (the parent of
 * `bin/`) in `cacheDir`, made once and reused by later runs.
 */
export async function reachableBinaries(bin: ServerBinaries, cacheDir: string = os.tmpdir()): Promise<ServerBinaries> {
  if (await reachableByOthers(bin.postgres)) return bin;
  const tree = path.dirname(path.dirname(bin.postgres));
  const id = createHash('sha256').update(tree).digest('hex').slice(0, 12);
  const copy = path.join(cacheDir, `aurora-load-test-pg-${id}`);
  const rel = (p: string) => path.join(copy, path.relative(tree, p));
  const ready = await fs.stat(rel(bin.postgres)).then((s) => s.isFile(), () => false);
  if (!ready) {
    const staging = `${copy}.${process.pid}.tmp`;
    await fs.rm(staging, { recursive: true, force: true });
    await run('cp', ['-a', tree, staging]);
    await run('chmod', ['-R', 'a+rX', staging]);
    await fs.chmod(staging, 0o755);
    // Another process may have finished the same copy first: either result is the same tree.
    await fs.rename(staging, copy).catch(async () => fs.rm(staging, { recursive: true, force: true }));
  }
  return { initdb: rel(bin.initdb), postgres: rel(bin.postgres) };
}
