import { UsageError } from '../errors';
import { redactUrl } from './host';

/** `postgres://user:password@host:port/database`, parsed. No heavy imports: the CLI checks flags with it. */
export interface PostgresUrl {
  readonly endpoint: { readonly host: string; readonly port: number };
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** The URL with its password masked, for messages. */
  readonly shown: string;
}

/** The servers of a local run given with --writer-url and --reader-url. */
export interface ServerUrls {
  readonly writer: PostgresUrl;
  /** A hot standby of the writer, for honest read numbers. */
  readonly reader: PostgresUrl;
}

/** Parse one URL; a mistake is a one-line {@link UsageError} naming the flag, the password masked. */
export function parsePostgresUrl(text: string, flag: string): PostgresUrl {
  const fail = (why: string): never => { throw new UsageError(`${flag} ${why} (${redactUrl(text)})`); };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('is not a URL: use postgres://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') fail(`must be a postgres:// URL, got ${url.protocol}//`);
  if (!url.hostname) fail('names no host: use postgres://user:password@host:5432/database');
  return {
    endpoint: { host: url.hostname.toLowerCase(), port: url.port ? Number(url.port) : 5432 },
    user: decodeURIComponent(url.username) || 'postgres',
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
    shown: redactUrl(text),
  };
}

/**
 * `--writer-url` and `--reader-url`, checked in one place for every command that takes them:
 * both or neither (neither: the embedded cluster), each a postgres:// URL, and one user, password
 * and database for both, as one Aurora secret serves both endpoints.
 */
export function parseServerUrls(writerUrl: string | undefined, readerUrl: string | undefined): ServerUrls | undefined {
  if (writerUrl === undefined && readerUrl === undefined) return undefined;
  if (writerUrl === undefined || readerUrl === undefined) {
    throw new UsageError('give both --writer-url and --reader-url (a primary and its hot standby), or neither for the embedded cluster');
  }
  const writer = parsePostgresUrl(writerUrl, '--writer-url');
  const reader = parsePostgresUrl(readerUrl, '--reader-url');
  if (writer.user !== reader.user || writer.password !== reader.password || writer.database !== reader.database) {
    throw new UsageError('give --writer-url and --reader-url the same user, password and database (one secret, as in Aurora)');
  }
  return { writer, reader };
}
