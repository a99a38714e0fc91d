/**
 * `npm run bench -- --publish`: the results become the project's published figures, in
 * bench/results.json and as the table in bench/README.md between its two markers. Pure functions:
 * bench/run.ts does the file I/O.
 */
import { describeGoal, formatNumber, type Row } from './report';

export const TABLE_START = '<!-- bench:table:start (npm run bench -- --publish writes this part) -->';
export const TABLE_END = '<!-- bench:table:end -->';

/** What the published table says about the run besides its rows. */
export interface RunFacts {
  readonly date: string;
  readonly mode: 'quick' | 'full';
  readonly durationS: number;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly node: string;
    readonly postgres?: unknown;
    readonly pgbench?: unknown;
    readonly othersCpuPct: number;
  };
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** The README's block: when, on what, how busy the machine was, and one line per row. */
export function readmeTable(facts: RunFacts, rows: readonly Row[]): string {
  const m = facts.machine;
  const day = facts.date.slice(0, 10);
  const versions = [`Node ${m.node}`, m.postgres ? `embedded PostgreSQL ${String(m.postgres)}` : undefined, m.pgbench ? String(m.pgbench).replace(/^pgbench \(PostgreSQL\) (\S+).*/, 'pgbench $1') : undefined].filter(Boolean).join(', ');
  const lines = [
    `Published ${day} (\`npm run bench -- ${facts.mode === 'quick' ? '--quick ' : ''}--publish\`, ${facts.durationS} s) on ${m.cpus} x ${m.cpuModel}, ${versions}. `
      + `Other processes took ${formatNumber(m.othersCpuPct)}% of the machine's CPU during the run; the "others" column gives their share during each measurement.`,
    '',
    '| figure | goal | measured | others | notes |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const value = r.value === null ? 'n/a' : `${formatNumber(r.value)}${r.unit ? ` ${r.unit}` : ''}`;
    const verdict = r.pass === null ? '' : r.pass ? ' (met)' : ' (miss)';
    lines.push(`| \`${r.figure}\`${r.at ? ` (${cell(r.at)})` : ''} | ${r.goal ? cell(describeGoal(r.goal, r.unit)) : ''} | ${r.goal ? `**${value}**` : value}${verdict} | ${r.othersCpuPct === undefined ? '' : `${r.othersCpuPct}%`} | ${cell(r.note ?? '')} |`);
  }
  return lines.join('\n');
}

/** `readme` with the text between the table markers replaced by `block`; throws when the markers are missing. */
export function replaceTable(readme: string, block: string): string {
  const a = readme.indexOf(TABLE_START);
  const b = readme.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`bench/README.md has no ${TABLE_START} ... ${TABLE_END} block to publish into`);
  return `${readme.slice(0, a + TABLE_START.length)}\n${block}\n${readme.slice(b)}`;
}
