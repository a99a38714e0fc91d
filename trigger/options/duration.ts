import { UsageError } from '../errors';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parse a duration such as `90s`, `5m`, `1h`, `1m30s`, `250ms` or a bare number of milliseconds.
 * Throws a {@link UsageError} naming the flag.
 */
export function parseDuration(text: string, flag: string): number {
  const t = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return checked(Number(t), text, flag);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(t)) {
    throw new UsageError(`${flag} "${text}" is not a duration: use e.g. 90s, 5m, 1h, 1m30s or 500ms`);
  }
  let ms = 0;
  for (const [, n, unit] of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return checked(ms, text, flag);
}

function checked(ms: number, text: string, flag: string): number {
  if (!Number.isFinite(ms)) throw new UsageError(`${flag} "${text}" is not a duration: use e.g. 90s, 5m or 1h`);
  return Math.round(ms);
}

/** `90000` -> `1m30s`, `2500` -> `2.5s`; for messages and the summary. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000 && Math.round(ms / 100) % 10 !== 0) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', sec || (!h && !m) ? `${sec}s` : ''].join('');
}
