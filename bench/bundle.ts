/**
 * Builds the worker bundle exactly as the pipeline's NodejsFunction does (aws-cdk-lib's
 * aws-lambda-nodejs runs `esbuild --bundle <entry> --target=node22 --platform=node --minify
 * --sourcemap --sources-content=false --external:... --main-fields=module,main
 * --supported:dynamic-import=false`, CommonJS, into index.js), so its size and
 * cold start are the ones Lambda gets. `npm run build` runs this after the type check.
 *
 * {@link WORKER_BUNDLING} lives in app/load/worker-bundling.ts: the stack's NodejsFunction spreads
 * it into its `bundling` props, so the bundle measured here is the one deployed.
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import type { BuildOptions } from 'esbuild';
import { bundleWorkloads, WORKER_BUNDLING } from '../app/load/worker-bundling';
import { assertValid } from '../handlers/workloads/catalog';

/** The repository root. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** The Lambda entry the pipeline bundles. */
export const WORKER_ENTRY = path.join(PROJECT_ROOT, 'handlers', 'index.ts');

/** Where `npm run build` and the benchmarks put the bundle (gitignored). */
export const WORKER_OUTDIR = path.join(PROJECT_ROOT, 'dist', 'worker');

export { WORKER_BUNDLING };

/**
 * The same options in esbuild's terms: what NodejsFunction passes on its command line.
 * `sdkExternal` is for the cold-start diagnostic only: the AWS SDK left out, as the runtime's copy would serve it.
 */
export function workerEsbuildOptions(outdir: string = WORKER_OUTDIR, opts: { sdkExternal?: boolean } = {}): BuildOptions {
  // The workloads travel in the bundle, injected as the stack injects them (NodejsFunction `inject`).
  const { inject, catalog } = bundleWorkloads(path.join(PROJECT_ROOT, 'workloads'), outdir);
  assertValid(catalog);
  return {
    entryPoints: [WORKER_ENTRY],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    // NodejsFunction passes no --format: esbuild's default for a node bundle, CommonJS.
    format: 'cjs',
    target: WORKER_BUNDLING.target,
    minify: WORKER_BUNDLING.minify,
    sourcemap: WORKER_BUNDLING.sourceMap,
    sourcesContent: WORKER_BUNDLING.sourcesContent,
    mainFields: [...WORKER_BUNDLING.mainFields],
    supported: supportedFromArgs(WORKER_BUNDLING.esbuildArgs),
    inject: [inject],
    external: opts.sdkExternal ? [...WORKER_BUNDLING.externalModules, '@aws-sdk/*'] : [...WORKER_BUNDLING.externalModules],
    logLevel: 'warning',
  };
}

/** NodejsFunction's `esbuildArgs` (`--supported:<feature>`: `true`/`false`) as esbuild's `supported` option; any other argument is refused, so the two stay the same build. */
export function supportedFromArgs(args: Readonly<Record<string, string>>): Record<string, boolean> {
  const supported: Record<string, boolean> = {};
  for (const [key, value] of Object.entries(args)) {
    const m = /^--supported:([a-z-]+)$/.exec(key);
    if (!m || (value !== 'true' && value !== 'false')) throw new Error(`bench/bundle.ts does not translate the esbuild argument ${key}=${value}: add it to workerEsbuildOptions`);
    supported[m[1]!] = value === 'true';
  }
  return supported;
}

export interface BundleResult {
  /** Path of index.js. */
  readonly file: string;
  /** Size of index.js, bytes: what Lambda loads. */
  readonly bytes: number;
  /** Size of index.js.map, bytes (shipped in the same asset, read only for stack traces). */
  readonly mapBytes: number;
  readonly buildMs: number;
}

/** Build the bundle into `outdir`. */
export async function buildWorkerBundle(outdir: string = WORKER_OUTDIR, opts: { sdkExternal?: boolean } = {}): Promise<BundleResult> {
  const esbuild = await import('esbuild');
  const t0 = performance.now();
  const options = workerEsbuildOptions(outdir, opts);
  await esbuild.build(options);
  const file = options.outfile!;
  return {
    file,
    bytes: statSync(file).size,
    mapBytes: statSync(`${file}.map`).size,
    buildMs: Math.round(performance.now() - t0),
  };
}

if (require.main === module) {
  buildWorkerBundle().then(
    (r) => {
      const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
      process.stdout.write(`worker bundle: ${path.relative(process.cwd(), r.file)} ${kib(r.bytes)} (+ ${kib(r.mapBytes)} source map), built in ${r.buildMs} ms\n`);
    },
    (e: unknown) => {
      process.stderr.write(`worker bundle failed: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
