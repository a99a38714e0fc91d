/**
 * The two-sample Kolmogorov-Smirnov test: are two samples drawn from the same distribution?
 * D is the largest gap between their empirical CDFs; the p-value is the asymptotic Kolmogorov
 * distribution with Stephens' small-sample correction (Numerical Recipes, "kstwo"). On discrete
 * data (integers) the test is conservative: p-values come out larger than exact ones.
 */
export interface KsResult {
  readonly d: number;
  readonly p: number;
}

export function ksTwoSample(a: readonly number[], b: readonly number[]): KsResult {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const ne = (x.length * y.length) / (x.length + y.length);
  const sqrtNe = Math.sqrt(ne);
  return { d, p: kolmogorovQ((sqrtNe + 0.12 + 0.11 / sqrtNe) * d) };
}

/** Q_KS(lambda) = 2 * sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2). */
function kolmogorovQ(lambda: number): number {
  if (lambda < 1e-9) return 1;
  let sum = 0;
  let sign = 1;
  for (let k = 1; k <= 100; k++) {
    const term = sign * Math.exp(-2 * k * k * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-12) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}
