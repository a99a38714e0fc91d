// Stryker configuration for `npm run mutate` (bench/mutate/run.ts picks the part through
// MUTATE_PART). One part is a group of the modules that carry the project's claims plus the
// tests that exercise them: Stryker runs a part's tests once, then, per mutant, only the tests
// that reached it (coverageAnalysis "perTest").
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// bench/mutate/parts.json: the parts, in the order `npm run mutate` runs them with no argument.
// `mutate`: the modules mutated; `spec`: the test files run against them. Tests that need a real
// PostgreSQL are listed only where the module can be reached no other way (pools), because every
// mutant they cover starts its own cluster.
const PARTS = JSON.parse(readFileSync(path.join(here, 'parts.json'), 'utf8'));

const name = process.env.MUTATE_PART ?? '';
const part = PARTS[name];
if (!part) throw new Error(`MUTATE_PART must be one of ${Object.keys(PARTS).join(', ')} (got "${name}")`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'mocha',
  // Test processes load TypeScript through tsx, as `npm test` does (and bench/mocha-cjs.cjs
  // through NODE_OPTIONS, which run.ts sets).
  testRunnerNodeArgs: ['--import', 'tsx'],
  mochaOptions: { 'no-config': true, spec: part.spec, require: ['test/setup.ts'] },
  // `npm run mutate -- PART --files a.ts,b.ts` narrows the part to some of its modules.
  mutate: process.env.MUTATE_FILES ? process.env.MUTATE_FILES.split(',') : part.mutate,
  coverageAnalysis: 'perTest',
  // No type checker: TypeScript 7's compiler is native and has no JavaScript API, which
  // @stryker-mutator/typescript-checker needs. A mutant that does not type-check still runs under
  // tsx (which strips types without checking them) and is judged by the tests like any other.
  checkers: [],
  // The same reason: Stryker's tsconfig rewriting parses tsconfig.json with the TypeScript API.
  // Pointing it at a file that does not exist turns that step off (our tsconfig has no
  // `extends` or `references` for it to rewrite anyway).
  tsconfigFile: 'bench/mutate/no-tsconfig.json',
  // MUTATE_CONCURRENCY=1 when the machine is shared (each test process may start a PostgreSQL).
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 2),
  // A mutant times out after 1.5 x its tests' time in the first run + 5 s (Stryker's defaults):
  // mutants that loop forever (a schedule that never advances) cost 5 s each, not more.
  timeoutFactor: 1.5,
  timeoutMS: 5_000,
  ignorePatterns: ['/.stryker-tmp', '/.local-pg', '/.runs', '/.scratch*', '/cdk.out', '/dist', '/bench/out', '/test-artifacts', '/.ci'],
  // One sandbox folder per part, so two parts can run at once.
  tempDirName: `.stryker-tmp/${name}`,
  cleanTempDir: true,
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  clearTextReporter: { allowColor: false, logTests: false, reportTests: false, reportMutants: true },
  jsonReporter: { fileName: `bench/out/mutation-${name}.json` },
  htmlReporter: { fileName: `bench/out/mutation-${name}.html` },
};
