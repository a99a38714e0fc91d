/**
 * Bounds on everything a message sender controls. They protect the database and the worker from a
 * typo in a trigger flag as much as from a hostile sender, and they are what the trigger validates
 * its plan against before it sends anything.
 */
export const LIMITS = {
  /** Largest message body accepted, in bytes (UTF-8). Our messages are a few hundred bytes. */
  maxBodyBytes: 8 * 1024,
  /** Statements per `statements` message. */
  maxCount: 10_000,
  /** Statements per second per `slice` message. */
  maxRate: 5_000,
  /** Longest slice, in ms. A Lambda invocation lasts at most 15 minutes. */
  maxDurationMs: 14 * 60 * 1000,
  /** How far in the future a slice may be scheduled to start. */
  maxStartLeadMs: 60 * 60 * 1000,
  /** How long past its start a slice may still be accepted (it then runs what is left). */
  maxStartLateMs: 15 * 60 * 1000,
  /** Largest `lateLimitMs` (pgbench -L) a slice may ask for. */
  maxLateLimitMs: 60_000,
  /** Entries in a slice's mix. */
  maxMixEntries: 8,
  /** Largest tpcb scale factor `init` accepts (100,000 accounts per unit). */
  maxScale: 1_000,
  /** `-D name=value` variables per message (pgbench's -D; the built-ins are not counted). */
  maxVariables: 16,
  /** Characters in one variable's value. */
  maxVariableLength: 256,
  /** Variable names: ASCII letters, digits and underscores, not starting with a digit. */
  variableNamePattern: /^[A-Za-z_][A-Za-z0-9_]{0,62}$/,
  /** A script's content hash (see contentHash in handlers/workloads/catalog.ts). */
  hashPattern: /^[0-9a-f]{16}$/,
  /** A random seed: an unsigned 64-bit integer in decimal (pgbench --random-seed). */
  seedPattern: /^(0|[1-9][0-9]{0,19})$/,
  /** Largest `clientId` (the :client_id of a message). */
  maxClientId: 1_000_000_000,
  /** Run ids: short, printable, safe as a CloudWatch dimension value. */
  runIdPattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  /** Host names: DNS names or IPv4 literals, optionally with `:port`. */
  hostPattern: /^(?=[^:]{1,253}(:|$))[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:[1-9][0-9]{0,4})?$/,
} as const;
