/**
 * Drills: the failover drill (`--failover-at`) and the fault drills, as library functions. The
 * analysis and the reconciliation are pure; the drills themselves drive the local engine (or, for
 * the failover, RDS) and hand their measurements to them.
 */
export { analyseOutage, analyseOutageOf, formatOutage, outageInputOf } from './outage';
export type { OutageAnalysis, OutageInput, OutageOptions, TargetOutage, TargetSeries } from './outage';
export { awsFailover, localFailover, runLocalFailoverDrill, scheduleFailover } from './failover';
export type { AwsFailoverOptions, FailoverAction, FailoverDrillResult, FailoverEvent, LocalFailoverDrillOptions } from './failover';
export { FAULT_KINDS, runFaultDrill } from './faults';
export type { FaultDrillOptions, FaultDrillResult, FaultKind } from './faults';
export { formatReconciliation, IN_DOUBT_CLASSES, reconcile } from './reconcile';
export type { ReconcileInput, Reconciliation } from './reconcile';
export { DrillError } from './load';
