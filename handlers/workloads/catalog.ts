/**
 * The names of the workloads and their operations, and which endpoint each operation belongs on.
 * This file holds no SQL so that the protocol (shared with the trigger) can validate a message
 * without loading any database code.
 */
export type Target = 'reader' | 'writer';
export type OpKind = 'read' | 'write';

export interface OpInfo {
  readonly kind: OpKind;
  /** One line for `--help` and reports. */
  readonly description: string;
}

export const CATALOG = {
  seed: {
    description: "the 2019 sample's transactions/type tables, its INSERT and its join + GROUP BY SELECT",
    readOp: 'select',
    writeOp: 'insert',
    ops: {
      insert: { kind: 'write', description: 'INSERT one transaction row (random type 1-10, date, quantity, price)' },
      select: { kind: 'read', description: 'SELECT joining type and transactions, GROUP BY type name' },
    },
  },
  tpcb: {
    description: "pgbench's TPC-B-like schema and transactions",
    readOp: 'select-only',
    writeOp: 'tpcb',
    ops: {
      tpcb: { kind: 'write', description: "pgbench's TPC-B-like transaction (3 UPDATEs, 1 SELECT, 1 INSERT)" },
      'select-only': { kind: 'read', description: "pgbench's select-only transaction (-S)" },
    },
  },
} as const satisfies Record<string, {
  description: string;
  readOp: string;
  writeOp: string;
  ops: Record<string, OpInfo>;
}>;

export type WorkloadName = keyof typeof CATALOG;
export const WORKLOAD_NAMES = Object.keys(CATALOG) as WorkloadName[];

export function isWorkloadName(name: unknown): name is WorkloadName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(CATALOG, name);
}

/** The operation's info, or undefined when the workload has no such operation. */
export function opInfo(workload: WorkloadName, op: string): OpInfo | undefined {
  const ops: Record<string, OpInfo> = CATALOG[workload].ops;
  return Object.prototype.hasOwnProperty.call(ops, op) ? ops[op] : undefined;
}

/** The endpoint an operation's kind belongs on: reads on the reader, writes on the writer. */
export function targetOf(kind: OpKind): Target {
  return kind === 'read' ? 'reader' : 'writer';
}
