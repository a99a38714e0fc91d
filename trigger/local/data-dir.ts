/**
 * Preparing the data directories of a local cluster: initdb (or a copy of this process's template),
 * our settings, the role's password, and the standby's copy. Nothing here starts a server.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { guardDir } from './exit-guard';
import type { ServerUser } from './server-user';

/** What every step needs to run a PostgreSQL program as the right OS user. */
export interface DataDirContext {
  readonly initdb: string;
  readonly postgres: string;
  readonly user: ServerUser | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** Working directory of the programs (one the server user can enter). */
  readonly cwd: string;
}

export const HOST = '127.0.0.1';

/** The embedded servers' max_connections (a plan can be checked against it before they start). */
export const EMBEDDED_MAX_CONNECTIONS = 200;

/** Settings of both servers (the standby gets them through the copy). */
const SERVER_CONF = `
# Local engine settings (the primary and, through the copy, the standby)
listen_addresses = '${HOST}'
unix_socket_directories = ''        # TCP only: no socket path length limits, nothing in /var/run
max_connections = ${EMBEDDED_MAX_CONNECTIONS}
wal_level = replica
max_wal_senders = 10                # not below initdb's 10: the copied control file records it
max_replication_slots = 10
wal_keep_size = '256MB'
max_slot_wal_keep_size = '4GB'      # a stopped reader must not fill the disk
hot_standby = on
hot_standby_feedback = on           # reads on the standby are not cancelled by the writer's vacuum
wal_receiver_status_interval = '1s'
wal_retrieve_retry_interval = '100ms'  # reconnect quickly after the writer restarts
lc_messages = 'C'
log_line_prefix = '%m [%p] '
`;

const PG_HBA = `# Written by the local engine: loopback TCP only, SCRAM passwords always.
# TYPE  DATABASE     USER  ADDRESS       METHOD
host    all          all   ${HOST}/32  scram-sha-256
host    replication  all   ${HOST}/32  scram-sha-256
`;

/**
 * Configured, never-started primaries, one per (parent directory, role name), kept for the life of
 * the process. initdb takes ~2 s; copying a template and setting the password takes a fraction of
 * that, which matters when a test run starts several clusters.
 */
const templates = new Map<string, Promise<string>>();

/**
 * Make `dir` (which must not exist) a configured primary data directory whose `role` has
 * `password`: a copy of this process's template when there is one, otherwise a fresh initdb that
 * then becomes the template. `dir` must not be started before `released` resolves (the template
 * may still be copied from it).
 */
export async function preparePrimary(
  ctx: DataDirContext,
  opts: { dir: string; parent: string; role: string; password: string; redact: (s: string) => string },
): Promise<{ released: Promise<void> }> {
  const key = `${opts.parent}\0${opts.role}\0${ctx.postgres}`;
  const template = await templates.get(key)?.catch(() => undefined);
  if (template) {
    try {
      await cloneDataDir(ctx, template, opts.dir);
      await setPassword(ctx, opts.dir, opts.role, opts.password);
      return { released: Promise.resolve() };
    } catch {
      // The template is unusable (removed by a tmp cleaner, say): forget it and run initdb.
      templates.delete(key);
      await fs.rm(opts.dir, { recursive: true, force: true });
    }
  }
  await fs.mkdir(opts.dir, { mode: 0o700 });
  await chownTree(ctx, opts.dir, false);
  await initdb(ctx, opts);
  await fs.appendFile(path.join(opts.dir, 'postgresql.conf'), SERVER_CONF);
  await fs.writeFile(path.join(opts.dir, 'pg_hba.conf'), PG_HBA);
  if (templates.has(key)) return { released: Promise.resolve() };
  const made = saveTemplate(ctx, opts.dir, opts.parent);
  templates.set(key, made);
  // A failed template only costs later clusters their shortcut.
  const released = made.then(
    () => undefined,
    () => void templates.delete(key),
  );
  return { released };
}

/**
 * Copy a data directory that is not running (byte for byte, as a base backup would), owned by the
 * server user. `cp -a`, run as that user, is about twice as fast as fs.cp on a data directory's
 * thousand small files; fs.cp (and a chown) is the fallback where there is no `cp`.
 */
export async function cloneDataDir(ctx: DataDirContext, from: string, to: string): Promise<void> {
  const copied = await new Promise<boolean>((resolve) => {
    execFile('cp', ['-a', from, to], spawnOptions(ctx), (err) => resolve(!err));
  });
  if (copied) return;
  await fs.rm(to, { recursive: true, force: true });
  await fs.cp(from, to, { recursive: true, preserveTimestamps: true, mode: fsConstants.COPYFILE_FICLONE });
  await chownTree(ctx, to, true);
}

/** Turn a copy of the primary into its hot standby, streaming through the slot `slot`. */
export async function configureStandby(ctx: DataDirContext, dir: string, opts: { primaryPort: number; role: string; password: string; slot: string }): Promise<void> {
  const conninfo = `host=${HOST} port=${opts.primaryPort} user=${opts.role} password=${conninfoValue(opts.password)} application_name=${opts.slot}`;
  // postgresql.conf is mode 0600 in a 0700 directory of the server user: the password stays private.
  await fs.appendFile(
    path.join(dir, 'postgresql.conf'),
    `\n# Standby (written by the local engine)\nprimary_conninfo = ${confString(conninfo)}\nprimary_slot_name = ${confString(opts.slot)}\n`,
  );
  const signal = path.join(dir, 'standby.signal');
  await fs.writeFile(signal, '', { mode: 0o600 });
  await chownTree(ctx, signal, false);
}

/** As root, hand `target` (recursively if asked) to the server's OS user. */
export async function chownTree(ctx: DataDirContext, target: string, recursive: boolean): Promise<void> {
  const u = ctx.user;
  if (!u) return;
  await fs.chown(target, u.uid, u.gid);
  if (!recursive) return;
  const entries = await fs.readdir(target, { recursive: true });
  await Promise.all(entries.map((e) => fs.lchown(path.join(target, e), u.uid, u.gid)));
}

async function initdb(ctx: DataDirContext, opts: { dir: string; role: string; password: string; redact: (s: string) => string }): Promise<void> {
  // initdb reads the password from a file, so it never shows up in a process listing.
  const pwfile = path.join(path.dirname(opts.dir), 'pwfile');
  await fs.writeFile(pwfile, `${opts.password}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await chownTree(ctx, pwfile, false);
    const args = ['-D', opts.dir, '--auth=scram-sha-256', `--username=${opts.role}`, `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'];
    await new Promise<void>((resolve, reject) => {
      execFile(ctx.initdb, args, spawnOptions(ctx), (err, stdout, stderr) => {
        if (!err) return resolve();
        const tail = opts.redact(`${stdout}\n${stderr}`.split('\n').filter(Boolean).slice(-10).join('\n  '));
        reject(new Error(`initdb failed for ${opts.dir} (${err.code ?? err.signal}):\n  ${tail}`));
      });
    });
  } finally {
    await fs.rm(pwfile, { force: true });
  }
}

/**
 * Set the role's password in a stopped data directory, with a single-user backend: nothing
 * listens, and the password travels through a pipe. log_min_error_statement=panic keeps the
 * statement (and so the password) out of the output even if it fails.
 */
async function setPassword(ctx: DataDirContext, dir: string, role: string, password: string): Promise<void> {
  const child = spawn(ctx.postgres, ['--single', '-D', dir, '-c', 'log_min_error_statement=panic', '-c', 'exit_on_error=on', 'postgres'], {
    ...spawnOptions(ctx),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  child.stdin.end(`ALTER ROLE ${role} PASSWORD ${sqlString(password)}\n`);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0 || /\b(ERROR|FATAL|PANIC):/.test(output)) {
    const tail = output.split('\n').filter(Boolean).slice(-6).join('\n  ').split(password).join('***');
    throw new Error(`could not set the password of ${role} in ${dir} (exit ${code}):\n  ${tail}`);
  }
}

async function saveTemplate(ctx: DataDirContext, from: string, parent: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(parent, 'aurora-lt-pg-template-'));
  guardDir(dir);
  await chownTree(ctx, dir, false);
  const data = path.join(dir, 'data');
  await cloneDataDir(ctx, from, data);
  return data;
}

function spawnOptions(ctx: DataDirContext): { cwd: string; env: NodeJS.ProcessEnv; uid?: number; gid?: number } {
  return { cwd: ctx.cwd, env: ctx.env, ...(ctx.user ? { uid: ctx.user.uid, gid: ctx.user.gid } : {}) };
}

/** A libpq conninfo value, quoted. */
function conninfoValue(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A postgresql.conf string literal. */
function confString(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** An SQL string literal (standard_conforming_strings is on). */
function sqlString(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}
