/**
 * Lambda runs each concurrent invocation in its own execution environment, with its own module
 * scope: its own pools, its own cached secret. The local engine does the same: one worker per
 * environment, created on first need (a cold start) and reused while warm, and an invocation is
 * handed a free environment, never one that is busy. Sharing one worker's pools between all
 * concurrent invocations would queue their statements behind each other, which Lambda never does.
 */
import type { Worker } from '../../handlers/worker';

export class ExecutionEnvironments implements Worker {
  private readonly all: Worker[] = [];
  private readonly free: Worker[] = [];

  constructor(private readonly create: () => Worker) {}

  /** Environments created so far (cold starts). */
  get size(): number {
    return this.all.length;
  }

  handle: Worker['handle'] = async (event, context) => {
    const env = this.free.pop() ?? this.spawn();
    try {
      return await env.handle(event, context);
    } finally {
      this.free.push(env);
    }
  };

  init: Worker['init'] = async (workload, opts) => {
    const env = this.free.pop() ?? this.spawn();
    try {
      return await env.init(workload, opts);
    } finally {
      this.free.push(env);
    }
  };

  interrupt(): void {
    for (const env of this.all) env.interrupt();
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((env) => env.close()));
  }

  private spawn(): Worker {
    const env = this.create();
    this.all.push(env);
    return env;
  }
}
