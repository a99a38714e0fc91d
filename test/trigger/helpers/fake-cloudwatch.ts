import type { GetMetricDataCommandInput, GetMetricDataCommandOutput, MetricDatum } from '@aws-sdk/client-cloudwatch';

interface Point {
  readonly sec: number;
  /** Each sample value with its count (Values/Counts), or one Value with count 1. */
  readonly samples: ReadonlyArray<readonly [value: number, count: number]>;
}

/**
 * CloudWatch as far as a run's report depends on it: metrics stored by name and exact dimension
 * set, at 1-second resolution, answered by GetMetricData for any period and statistic (Sum,
 * SampleCount, Average, Maximum, pNN), page by page. ListMetrics lists nothing: as for a metric
 * created in the last 15 minutes.
 */
export class FakeCloudWatch {
  private readonly metrics = new Map<string, Point[]>();
  /** Datapoints per GetMetricData page, to make the reader follow NextToken. */
  constructor(private readonly pageSize = 100_800) {}

  static key(namespace: string, name: string, dims: ReadonlyArray<{ Name?: string | undefined; Value?: string | undefined }>): string {
    return `${namespace}|${name}|${dims.map((d) => `${d.Name}=${d.Value}`).sort().join(',')}`;
  }

  /** Store datums as PutMetricData would. */
  put(namespace: string, datums: readonly MetricDatum[]): void {
    for (const d of datums) {
      const key = FakeCloudWatch.key(namespace, d.MetricName!, d.Dimensions ?? []);
      const samples: Array<[number, number]> = d.Values ? d.Values.map((v, i) => [v, d.Counts?.[i] ?? 1]) : [[d.Value!, 1]];
      let list = this.metrics.get(key);
      if (!list) this.metrics.set(key, (list = []));
      list.push({ sec: Math.floor((d.Timestamp as Date).getTime() / 1000), samples });
    }
  }

  getMetricData(input: GetMetricDataCommandInput): Partial<GetMetricDataCommandOutput> {
    const start = input.StartTime!.getTime() / 1000;
    const end = input.EndTime!.getTime() / 1000;
    const all = input.MetricDataQueries!.map((q) => {
      const m = q.MetricStat!;
      const points = (this.metrics.get(FakeCloudWatch.key(m.Metric!.Namespace!, m.Metric!.MetricName!, m.Metric!.Dimensions ?? [])) ?? [])
        .filter((p) => p.sec >= start && p.sec < end);
      const byPeriod = new Map<number, Array<readonly [number, number]>>();
      for (const p of points) {
        const at = start + Math.floor((p.sec - start) / m.Period!) * m.Period!;
        byPeriod.set(at, [...(byPeriod.get(at) ?? []), ...p.samples]);
      }
      const periods = [...byPeriod.keys()].sort((a, b) => a - b);
      return { Id: q.Id!, Timestamps: periods.map((t) => new Date(t * 1000)), Values: periods.map((t) => statOf(m.Stat!, byPeriod.get(t)!)) };
    });
    // Pages: `pageSize` datapoints of each query per page.
    const page = Number(input.NextToken ?? 0);
    const results = all.map((r) => ({ ...r, Timestamps: r.Timestamps.slice(page * this.pageSize, (page + 1) * this.pageSize), Values: r.Values.slice(page * this.pageSize, (page + 1) * this.pageSize) }));
    const more = all.some((r) => r.Values.length > (page + 1) * this.pageSize);
    return { MetricDataResults: results, ...(more ? { NextToken: String(page + 1) } : {}) };
  }
}

function statOf(stat: string, samples: ReadonlyArray<readonly [number, number]>): number {
  const n = samples.reduce((a, [, c]) => a + c, 0);
  if (stat === 'SampleCount') return n;
  if (stat === 'Sum') return samples.reduce((a, [v, c]) => a + v * c, 0);
  if (stat === 'Average') return samples.reduce((a, [v, c]) => a + v * c, 0) / n;
  if (stat === 'Maximum') return Math.max(...samples.map(([v]) => v));
  const p = /^p(\d+(?:\.\d+)?)$/.exec(stat);
  if (!p) throw new Error(`statistic ${stat} is not modelled`);
  const rank = Math.max(1, Math.ceil((Number(p[1]) / 100) * n));
  let seen = 0;
  for (const [v, c] of [...samples].sort(([a], [b]) => a - b)) {
    seen += c;
    if (seen >= rank) return v;
  }
  return Math.max(...samples.map(([v]) => v));
}
