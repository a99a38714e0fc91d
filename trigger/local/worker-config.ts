import { DEFAULTS, type Endpoint, type WorkerConfig } from '../../handlers/config';
import { EVENT_SOURCE_DEFAULTS } from '../../handlers/event-source';

/**
 * The worker's configuration for a local run: credentials given directly (there is no Secrets
 * Manager here), no TLS on loopback, and the Lambda defaults for everything else.
 */
export function localWorkerConfig(o: {
  readonly writer: Endpoint;
  readonly reader: Endpoint;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly poolMax?: number;
  readonly statementTimeoutMs?: number;
  /** The local queue's maxReceiveCount. @default the stack's (EVENT_SOURCE_DEFAULTS.maxReceiveCount) */
  readonly maxReceiveCount?: number;
}): WorkerConfig {
  return {
    writer: { ...o.writer },
    reader: { ...o.reader },
    database: o.database,
    credentials: { kind: 'static', user: o.user, password: o.password },
    allowedHosts: [],
    tls: 'disable',
    poolMax: o.poolMax ?? DEFAULTS.poolMax,
    statementTimeoutMs: o.statementTimeoutMs ?? DEFAULTS.statementTimeoutMs,
    connectTimeoutMs: DEFAULTS.connectTimeoutMs,
    metricNamespace: DEFAULTS.metricNamespace,
    deadlineMarginMs: DEFAULTS.deadlineMarginMs,
    maxReceiveCount: o.maxReceiveCount ?? EVENT_SOURCE_DEFAULTS.maxReceiveCount,
  };
}
