/**
 * How the worker is bundled, in aws-lambda-nodejs `BundlingOptions` terms (minus the Docker
 * switch). The stack spreads it into the NodejsFunction, and `npm run build` / the benchmarks build
 * `dist/worker/index.js` from the same object, so what is measured is what is deployed.
 */
export const WORKER_BUNDLING = {
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // The runtime provides the AWS SDK v3; pg-native is an optional native addon pg never needs.
  externalModules: ['@aws-sdk/*', 'pg-native'],
  // The function runs on nodejs22.x.
  target: 'node22',
} as const;
