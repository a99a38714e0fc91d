import type { Endpoint, WorkerConfig } from '../config';
import type { Target } from '../workloads/catalog';
import type { HostOverrides } from '../protocol/message';
import { InvalidMessageError } from '../protocol/message';

export function endpointKey(e: Endpoint): string {
  return `${e.host}:${e.port}`;
}

/**
 * The endpoints a message may name: the configured writer and reader plus the extra allowed hosts
 * (each `host` or `host:port`; a bare host means the configured port).
 */
export function allowlistOf(config: WorkerConfig): Set<string> {
  const keys = new Set([endpointKey(config.writer), endpointKey(config.reader)]);
  for (const h of config.allowedHosts) keys.add(endpointKey(parseHostPort(h, config.writer.port)));
  return keys;
}

export function parseHostPort(text: string, defaultPort: number): Endpoint {
  const i = text.lastIndexOf(':');
  if (i < 0) return { host: text.toLowerCase(), port: defaultPort };
  const port = Number(text.slice(i + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidMessageError(`port in "${text}" is not 1-65535`);
  return { host: text.slice(0, i).toLowerCase(), port };
}

/**
 * Where a target's statements go: the configured endpoint, or the message's explicit host when it
 * is on the allowlist. Anything else is refused before a connection (and so a credential) is made.
 */
export function resolveEndpoint(config: WorkerConfig, allowlist: ReadonlySet<string>, target: Target, hosts?: HostOverrides): Endpoint {
  const configured = target === 'reader' ? config.reader : config.writer;
  const explicit = hosts?.[target];
  if (explicit === undefined) return configured;
  const endpoint = parseHostPort(explicit, configured.port);
  if (!allowlist.has(endpointKey(endpoint))) {
    throw new InvalidMessageError(`host "${explicit}" for the ${target} is not on the worker's allowlist`);
  }
  return endpoint;
}
