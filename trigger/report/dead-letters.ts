/**
 * A run's dead letters are the workers' own count (`Messages`, Outcome=deadLettered, by the
 * message's RunId): the messages of this run that failed on their last receive. The dead-letter
 * queue's growth over the run is no measure of that: it also holds other runs' messages that reach
 * it meanwhile (a message whose invocation died comes back after the queue's 90-minute visibility
 * timeout, is refused as too late and is dead-lettered during whatever run is active then), and
 * it includes this run's messages whose invocation could not report (one that timed out). So the
 * growth stays, as a cross-check that says so when the two disagree.
 */
import type { Timeline } from './run-record';

/** This run's dead letters as the workers counted them; null when the timeline has no such count (an older record). */
export function deadLettersOf(timeline: Pick<Timeline, 'messages'>): number | null {
  const counts = timeline.messages.deadLettered;
  return counts ? counts.reduce((a, b) => a + b, 0) : null;
}

/**
 * A note when the dead-letter queue grew by other than the workers' count of this run's dead
 * letters; undefined when they agree or either is unknown.
 */
export function deadLetterCrossCheck(workers: number | null, queueGrowth: number | null): string | undefined {
  if (workers === null || queueGrowth === null || workers === queueGrowth) return undefined;
  return `the dead-letter queue grew by ${queueGrowth} during the run, while the workers dead-lettered ${workers} of this run's messages; `
    + 'the difference is other runs\' messages reaching the queue meanwhile, or invocations that ended without reporting (a timeout, a crash); '
    + 'the summary counts the workers\' number';
}
