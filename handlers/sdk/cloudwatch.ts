/**
 * The part of the CloudWatch client the worker uses, required on the first publish
 * (metrics/cloudwatch-sink.ts). Naming the two classes, instead of requiring the package, lets
 * esbuild leave the rest of the package's ES modules out of the bundle (app/load/worker-bundling.ts).
 */
export { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
