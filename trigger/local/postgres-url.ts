/** `postgres://user:password@host:port/database`, parsed. No heavy imports: the CLI checks flags with it. */
export interface PostgresUrl {
  readonly endpoint: { readonly host: string; readonly port: number };
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

/** A malformed URL; the message names the flag and never repeats the URL (it may hold a password). */
export class PostgresUrlError extends Error {
  override readonly name = 'PostgresUrlError';
}

export function parsePostgresUrl(text: string, flag: string): PostgresUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PostgresUrlError(`${flag} is not a URL: use postgres://user:password@host:5432/database`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new PostgresUrlError(`${flag} must be a postgres:// URL, got ${url.protocol}//`);
  }
  if (!url.hostname) throw new PostgresUrlError(`${flag} names no host: use postgres://user:password@host:5432/database`);
  const port = url.port ? Number(url.port) : 5432;
  return {
    endpoint: { host: url.hostname.toLowerCase(), port },
    user: decodeURIComponent(url.username) || 'postgres',
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
  };
}
