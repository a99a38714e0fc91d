import { PROTOCOL_VERSION, type StatementsMessage } from '../../handlers/protocol/message';
import { averageRate, dueAt, dueBy, scheduledBy, totalUnits, type RateProfile } from './pacing';
import { MixPicker } from '../../handlers/schedule';
import { scriptOptionsOf, type RunSpec } from './run-spec';
import type { StatementsPlan } from './send-plan';
import { describeMix } from '../options/mix';
import { round } from '../round';

/**
 * Statements mode (the seed's model): messages of `count` statements of one op each, paced at
 * rate / count messages per second, ops interleaved by the mix. The worker runs each message's
 * statements back to back as soon as it receives it, so the database sees SQS's batching; use
 * slice mode for load that is linear at the database.
 */
export function planStatements(spec: RunSpec, count: number): StatementsPlan {
  const profile: RateProfile = { rate: spec.rate / count, durationMs: spec.durationMs, rampMs: spec.rampMs };
  const total = totalUnits(profile);
  // The worker's own interleave, read in order: the sender asks for each message once, ascending.
  let picker = new MixPicker(spec.mix);
  let position = 0;
  let last = '';
  const opAt = (i: number): string => {
    if (i < position - 1) {
      picker = new MixPicker(spec.mix);
      position = 0;
    }
    while (position <= i) {
      last = picker.next();
      position++;
    }
    return last;
  };
  const scriptOptions = scriptOptionsOf(spec);
  return {
    mode: 'statements',
    count,
    total,
    dueBy: (elapsed) => dueBy(profile, elapsed),
    dueAt: (i) => dueAt(profile, i),
    body(i, sentAt) {
      const op = opAt(i);
      const msg: StatementsMessage = {
        v: PROTOCOL_VERSION, kind: 'statements', runId: spec.runId, seq: i, sentAt, workload: spec.workload,
        // Each message runs on the script's own endpoint; :client_id is the message's number.
        op, hash: spec.hashes[op]!, count,
        ...(spec.hosts ? { hosts: spec.hosts } : {}),
        ...scriptOptions, clientId: i,
      };
      return JSON.stringify(msg);
    },
    startLeadMs: 0,
    loadDurationMs: spec.durationMs,
    statements: total * count,
    plannedBy: (t) => count * Math.min(total, scheduledBy(profile, t)),
    peakRate: spec.rate,
    averageRate: (total * count * 1000) / spec.durationMs,
    description: `statements mode: ${total} messages of ${count} statements (${describeMix(spec.mix)}), `
      + `${round(averageRate(profile))} messages/s`,
  };
}
