/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy LoadTestPipeline` (cdk.json runs this with tsx).
 *
 * The composition root: configuration is read and validated here, once, and passed down as typed
 * values; the pipeline stack holds the `LoadTest` stage with the load test's stacks. Stacks are
 * environment-agnostic, so synth needs no credentials and the pipeline deploys into its own
 * account and region.
 */
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BuildSpecError, readBuildSpec } from '../pipeline/buildspec';
import { LoadTestPipelineStack } from '../pipeline/pipeline-stack';
import { ConfigError, loadConfig } from './config';

const app = new App();
try {
  const config = loadConfig({
    context: (key) => app.node.tryGetContext(key),
    contextKeys: Object.keys(app.node.getAllContext()),
    env: process.env,
  });
  const buildSpec = readBuildSpec(path.join(__dirname, '..', 'buildspec.yml'));
  new LoadTestPipelineStack(app, LoadTestPipelineStack.ID, {
    config,
    buildSpec,
    description: 'Aurora load test: the self-mutating pipeline that deploys the LoadTest stage',
  });
} catch (err) {
  // A mistake the user can fix gets one line, not a stack trace.
  if (err instanceof ConfigError || err instanceof BuildSpecError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
