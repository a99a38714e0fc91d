/**
 * The part of the SQS client the worker uses, required on the first failed message
 * (redelivery.ts). Naming the two classes, instead of requiring the package, lets esbuild leave
 * the rest of the package's ES modules out of the bundle (app/load/worker-bundling.ts).
 */
export { ChangeMessageVisibilityBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
