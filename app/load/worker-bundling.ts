/**
 * How the worker is bundled, in aws-lambda-nodejs `BundlingOptions` terms (minus the Docker
 * switch). The stack spreads it into the NodejsFunction, and `npm run build` / the benchmarks build
 * `dist/worker/index.js` from the same object, so what is measured is what is deployed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildCatalog, contentHash, type Catalog } from '../../handlers/workloads/catalog';
import { WORKLOADS_GLOBAL } from '../../handlers/workloads/deployed';
import { readWorkloadFiles } from '../../handlers/workloads/files';

export const WORKER_BUNDLING = {
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // The AWS SDK travels in the bundle, at the version package-lock.json pins and the tests ran, not
  // the runtime's copy, which Lambda updates on its own schedule ("To lock an SDK version ... include
  // this in your deployment package", AWS Lambda Operator Guide, "Managing AWS SDKs in Lambda
  // functions", https://serverlessland.com/content/service/lambda/guides/aws-lambda-operator-guide/sdks-functions).
  // The worker relies on recent SDK behaviour (the requestHandler's throwOnRequestTimeout, handlers/config.ts).
  // pg-native is an optional native addon pg never needs.
  bundleAwsSDK: true,
  externalModules: ['pg-native'],
  // The SDK's ES modules ("module") rather than its CommonJS ("main"): esbuild can then leave out
  // what the worker never calls (a browser user-agent parser, Node's HTTP/2 module, much of the
  // protocol code), so less is parsed at every cold start ("Try ['module', 'main'] to default to
  // ES module versions", aws-lambda-nodejs BundlingOptions.mainFields,
  // https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda_nodejs.BundlingOptions.html).
  // Their dynamic `import()`s of Node's own modules become `require()`s: in a CommonJS bundle an
  // `import()` starts Node's ES module loader the first time, for the same module.
  // Measured: 776 -> 641 KB, and 8% less CPU per cold start (bench/README.md, coldInitMs).
  mainFields: ['module', 'main'],
  esbuildArgs: { '--supported:dynamic-import': 'false' },
  // The function runs on nodejs22.x.
  target: 'node22',
} as const;

/** The workloads a bundle carries, and the module esbuild injects to carry them. */
export interface BundledWorkloads {
  readonly catalog: Catalog;
  /** A generated module exporting the files as the global deployed.ts reads (esbuild `inject`). */
  readonly inject: string;
}

/**
 * Read and parse `workloadsDir`, and write the module that puts its files into the bundle
 * (esbuild's `inject`, which NodejsFunction passes through) under `outDir`. The worker then runs
 * exactly these files, parsed once per cold start, and reads nothing from disk. The caller
 * refuses a catalog with problems (`catalog.problems`, one `file:line: problem` line each): the
 * stack as synth errors, `npm run build` by throwing.
 */
export function bundleWorkloads(workloadsDir: string, outDir: string): BundledWorkloads {
  const files = readWorkloadFiles(workloadsDir);
  const catalog = buildCatalog(files);
  const source = `export const ${WORKLOADS_GLOBAL} = ${JSON.stringify(files)};\n`;
  mkdirSync(outDir, { recursive: true });
  const inject = path.join(outDir, `workloads-${contentHash(source)}.js`);
  writeFileSync(inject, source);
  return { catalog, inject };
}
