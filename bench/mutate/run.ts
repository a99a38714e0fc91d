/**
 * `npm run mutate [-- PART...]`: mutation testing (Stryker) over the modules that carry the
 * project's claims, one part at a time (bench/mutate/parts.json; all parts when none is named).
 * Each part writes bench/out/mutation-PART.json and .html; the end prints, per part, the mutants
 * killed, survived and not covered, the mutation score and the time it took. Not a test: nothing
 * here makes `npm test` or CI fail. See bench/README.md, "Mutation testing".
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import PARTS from './parts.json';

const ROOT = path.resolve(__dirname, '..', '..');
const CONFIG = path.join(__dirname, 'stryker.config.mjs');
const STRYKER = path.join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
/** Loaded into Stryker and every process it starts (they inherit NODE_OPTIONS): see its header. */
const MOCHA_CJS = path.join(__dirname, 'mocha-cjs.cjs');

type Part = keyof typeof PARTS;
const NAMES = Object.keys(PARTS) as Part[];

/** Mutants of one part by Stryker's status (mutation-testing-report-schema). */
type Counts = Record<'Killed' | 'Timeout' | 'Survived' | 'NoCoverage' | 'CompileError' | 'RuntimeError' | 'Ignored', number>;

interface Outcome {
  readonly part: Part;
  readonly seconds: number;
  readonly exitCode: number;
  readonly counts?: Counts;
}

function parseParts(args: readonly string[]): { parts: Part[]; files?: string } {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`usage: npm run mutate [-- PART...] [--files GLOB[,GLOB...]]\nparts: ${NAMES.join(', ')} (default: all, in that order)\n--files: mutate only these of the parts' modules (e.g. handlers/workloads/script/expr.ts)`);
    process.exit(0);
  }
  const argv = [...args];
  let files: string | undefined;
  const at = argv.indexOf('--files');
  if (at >= 0) {
    files = argv[at + 1];
    if (!files || files.startsWith('-')) {
      console.error('npm run mutate: --files needs a comma-separated list of files or globs');
      process.exit(2);
    }
    argv.splice(at, 2);
  }
  for (const a of argv) {
    if (!(NAMES as string[]).includes(a)) {
      console.error(`npm run mutate: unknown part "${a}"; parts: ${NAMES.join(', ')}`);
      process.exit(2);
    }
  }
  const parts = argv.length ? (argv as Part[]) : NAMES;
  return files === undefined ? { parts } : { parts, files };
}

function countsOf(part: Part): Counts | undefined {
  const file = path.join(ROOT, 'bench', 'out', `mutation-${part}.json`);
  if (!existsSync(file)) return undefined;
  const report = JSON.parse(readFileSync(file, 'utf8')) as { files: Record<string, { mutants: Array<{ status: keyof Counts }> }> };
  const counts: Counts = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, CompileError: 0, RuntimeError: 0, Ignored: 0 };
  for (const f of Object.values(report.files)) for (const m of f.mutants) counts[m.status]++;
  return counts;
}

/** Stryker's mutation score: detected (killed or timed out) over every mutant that could run. */
function score(c: Counts): number {
  const detected = c.Killed + c.Timeout;
  return (100 * detected) / (detected + c.Survived + c.NoCoverage);
}

const outcomes: Outcome[] = [];
const { parts, files } = parseParts(process.argv.slice(2));
for (const part of parts) {
  console.log(`\n=== mutate ${part}: ${files ?? PARTS[part].mutate.join(' ')}`);
  const began = Date.now();
  const run = spawnSync(process.execPath, [STRYKER, 'run', CONFIG], { cwd: ROOT, stdio: 'inherit', env: {
    ...process.env, MUTATE_PART: part, ...(files === undefined ? {} : { MUTATE_FILES: files }), NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${MOCHA_CJS}`.trim(),
  } });
  const seconds = (Date.now() - began) / 1000;
  const counts = run.status === 0 ? countsOf(part) : undefined;
  outcomes.push(counts ? { part, seconds, exitCode: 0, counts } : { part, seconds, exitCode: run.status ?? 1 });
}

console.log('\npart        killed  timeout  survived  no cover  score    time');
for (const o of outcomes) {
  const time = `${Math.floor(o.seconds / 60)}m${String(Math.round(o.seconds % 60)).padStart(2, '0')}s`;
  if (!o.counts) {
    console.log(`${o.part.padEnd(10)}  Stryker failed (exit ${o.exitCode})${' '.repeat(25)}${time}`);
    continue;
  }
  const c = o.counts;
  console.log(`${o.part.padEnd(10)}  ${String(c.Killed).padStart(6)}  ${String(c.Timeout).padStart(7)}  ${String(c.Survived).padStart(8)}  ${String(c.NoCoverage).padStart(8)}  ${score(c).toFixed(1).padStart(5)}%  ${time}`);
}
process.exitCode = outcomes.some((o) => !o.counts) ? 1 : 0;
