import { LIMITS } from '../../handlers/protocol/limits';
import { UsageError } from '../errors';

/**
 * Validate an explicit `--reader HOST` / `--writer HOST`. Only the syntax is checked here: the
 * worker refuses any host that is not on its allowlist.
 */
export function parseHost(text: string, flag: string): string {
  const h = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(h)) {
    throw new UsageError(`${flag} takes a host name, not a URL ("${redactUrl(h)}"); for a local server use --local --${flag.slice(2)}-url URL`);
  }
  if (!LIMITS.hostPattern.test(h)) {
    throw new UsageError(`${flag} "${h}" is not a host name: use a DNS name or IPv4 address, e.g. my-cluster.cluster-ro-abc.eu-west-1.rds.amazonaws.com`);
  }
  return h.toLowerCase();
}

/**
 * A URL with its password replaced by `***`, safe to print. Anything that does not parse is
 * returned with everything between "://" and "@" masked, so a password never leaks through a typo.
 */
export function redactUrl(text: string): string {
  try {
    const u = new URL(text);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return text.replace(/(:\/\/)[^/@]*@/, '$1***@');
  }
}
