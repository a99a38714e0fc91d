import type { InvocationMetrics, MetricsSink } from './types';

/** The local engine's sink: keeps every invocation's metrics in memory, in arrival order. */
export class MemorySink implements MetricsSink {
  readonly invocations: InvocationMetrics[] = [];
  private readonly listeners: Array<(m: InvocationMetrics) => void> = [];

  async publish(metrics: InvocationMetrics): Promise<void> {
    this.invocations.push(metrics);
    for (const l of this.listeners) l(metrics);
  }

  /** Called after each publish (progress displays). */
  onPublish(listener: (m: InvocationMetrics) => void): void {
    this.listeners.push(listener);
  }
}
