/**
 * The OS identity the embedded PostgreSQL runs as. PostgreSQL refuses to run as root (initdb and
 * postgres both exit with "cannot be run as root"), and CI runs as root, so as root we run the
 * servers as the `postgres` OS user, creating it when it does not exist yet.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** uid/gid to spawn the server processes with; undefined means "as ourselves". */
export interface ServerUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

const SERVER_USER = 'postgres';
let cached: Promise<ServerUser | undefined> | undefined;

/**
 * Resolve (once per process) who runs the servers: undefined when we are not root, otherwise the
 * `postgres` user, created with groupadd/useradd if missing. Concurrent callers, and other
 * processes creating the user at the same moment, are both tolerated.
 */
export function serverUser(): Promise<ServerUser | undefined> {
  cached ??= resolve().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

async function resolve(): Promise<ServerUser | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const existing = await lookUp(SERVER_USER);
  if (existing) return existing;
  try {
    await run('groupadd', ['-f', '--system', SERVER_USER]);
    await run('useradd', ['--system', '--gid', SERVER_USER, '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER]);
  } catch (err) {
    // Another process may have created it between our look-up and useradd.
    const raced = await lookUp(SERVER_USER);
    if (raced) return raced;
    const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(
      `PostgreSQL cannot run as root, and the OS user "${SERVER_USER}" does not exist and could not be created ` +
        `(${detail}). Create it (useradd --system ${SERVER_USER}) or run as a non-root user.`,
    );
  }
  const created = await lookUp(SERVER_USER);
  if (!created) throw new Error(`useradd reported success but the OS user "${SERVER_USER}" cannot be found`);
  return created;
}

async function lookUp(name: string): Promise<ServerUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { name, uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined;
  }
}
