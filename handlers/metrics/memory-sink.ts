import type { InvocationMetrics, MetricsSink } from './types';

/** The local engine's sink: keeps every invocation's metrics in memory, in arrival order. */
export class MemorySink implements MetricsSink {
  readonly invocations: InvocationMetrics[] = [];

  async publish(metrics: InvocationMetrics): Promise<void> {
    this.invocations.push(metrics);
  }
}
