/** `x` rounded to `digits` decimals, for messages and the saved record: 199.63 -> 199.6. */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
