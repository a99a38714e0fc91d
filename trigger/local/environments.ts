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

  handle: Worker['handle'] = (event, context) => this.inFreeEnvironment((env) => env.handle(event, context));

  init: Worker['init'] = (workload, opts) => this.inFreeEnvironment((env) => env.init(workload, opts));

  interrupt(): void {
    for (const env of this.all) env.interrupt();
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((env) => env.close()));
  }

  /** Run `fn` in a free environment (a new one when all are busy), then free it again. */
  private async inFreeEnvironment<T>(fn: (env: Worker) => Promise<T>): Promise<T> {
    const env = this.free.pop() ?? this.spawn();
    try {
      return await fn(env);
    } finally {
      this.free.push(env);
    }
  }

  private spawn(): Worker {
    const env = this.create();
    this.all.push(env);
    return env;
  }
}
