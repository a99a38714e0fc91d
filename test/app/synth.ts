/**
 * Shared synthesis for the CDK tests: a fixed account and region (their AZs are in the committed
 * cdk.context.json, so nothing is looked up), the project's cdk.json context (feature flags), and
 * one synthesis per distinct configuration for the whole mocha run.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig, type LoadTestConfig } from '../../app/config';
import { addLoadTestStacks, type LoadTestStacks } from '../../app/load-test';
import { readBuildSpec } from '../../pipeline/buildspec';
import { LoadTestPipelineStack } from '../../pipeline/pipeline-stack';

export const ROOT = path.resolve(__dirname, '..', '..');
export const TEST_ENV = { account: '111111111111', region: 'eu-west-1' } as const;

/** A complete bring-your-own configuration, as a user would pass it with `-c`. */
export const BYO_CONTEXT = {
  SecretName: 'loadtest/aurora-master',
  SecurityGroups: 'sg-0123456789abcdef0,sg-0fedcba9876543210',
  Subnets: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2',
  VpcId: 'vpc-0123456789abcdef0',
  WriterEndpoint: 'prod.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com',
  ReaderEndpoint: 'prod.cluster-ro-abcdefghijkl.eu-west-1.rds.amazonaws.com',
} as const;

/** Bring-your-own with the secret's complete ARN and the Aurora cluster's identifier. */
export const BYO_ARN_CONTEXT = {
  ...BYO_CONTEXT,
  SecretName: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:loadtest/aurora-master-AbCdEf',
  DbClusterIdentifier: 'prod-aurora',
} as const;

/** Create mode with every worker setting changed from its default. */
export const CUSTOM_CONTEXT = {
  WorkerMaxConcurrency: 50,
  WorkerReservedConcurrency: 60,
  WorkerBatchSize: 5,
  WorkerPoolMax: 8,
  Scale: 10,
  MetricNamespace: 'Team/LoadTest',
  AllowedHosts: 'replica-east.example.com,10.1.2.3:6432',
} as const;

export type Context = Readonly<Record<string, unknown>>;

/** cdk.json's context and the committed cdk.context.json, as the CLI would pass them. */
function projectContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const committed = JSON.parse(readFileSync(path.join(ROOT, 'cdk.context.json'), 'utf8')) as Record<string, unknown>;
  return { ...cdkJson.context, ...committed };
}

/**
 * An app with the project's context plus `context`. CDK's built-in CloudFormation validation is
 * off here only for speed: `npx cdk synth` (in buildspec.yml, after the tests) runs it.
 */
export function newApp(context: Context = {}): App {
  return new App({ context: { ...projectContext(), ...context }, builtinCloudFormationValidation: false });
}

/** The configuration the entry point would read from this app's context. */
export function configOf(app: App): LoadTestConfig {
  return loadConfig({ context: (key) => app.node.tryGetContext(key), contextKeys: Object.keys(app.node.getAllContext()) });
}

export interface SynthesizedStacks {
  readonly app: App;
  readonly config: LoadTestConfig;
  readonly stacks: LoadTestStacks;
  readonly network?: Template;
  readonly database?: Template;
  readonly load: Template;
}

export interface SynthesizedPipeline {
  readonly app: App;
  readonly config: LoadTestConfig;
  readonly stack: LoadTestPipelineStack;
  readonly template: Template;
}

const stackCache = new Map<string, SynthesizedStacks>();
const pipelineCache = new Map<string, SynthesizedPipeline>();

/** The LoadTest stage's stacks for `context`, synthesized once per distinct context. */
export function synthStacks(context: Context = {}): SynthesizedStacks {
  const key = JSON.stringify(context);
  const cached = stackCache.get(key);
  if (cached) return cached;
  const app = newApp(context);
  const config = configOf(app);
  const stage = new Stage(app, 'LoadTest', { env: TEST_ENV });
  const stacks = addLoadTestStacks(stage, config);
  const result: SynthesizedStacks = {
    app,
    config,
    stacks,
    ...(stacks.network ? { network: Template.fromStack(stacks.network) } : {}),
    ...(stacks.database ? { database: Template.fromStack(stacks.database) } : {}),
    load: Template.fromStack(stacks.load),
  };
  stackCache.set(key, result);
  return result;
}

/** The pipeline stack (and the stage inside it) for `context`, synthesized once per distinct context. */
export function synthPipeline(context: Context = {}): SynthesizedPipeline {
  const key = JSON.stringify(context);
  const cached = pipelineCache.get(key);
  if (cached) return cached;
  const app = newApp(context);
  const config = configOf(app);
  const stack = new LoadTestPipelineStack(app, LoadTestPipelineStack.ID, {
    env: TEST_ENV,
    config,
    buildSpec: readBuildSpec(path.join(ROOT, 'buildspec.yml')),
  });
  const result: SynthesizedPipeline = { app, config, stack, template: Template.fromStack(stack) };
  pipelineCache.set(key, result);
  return result;
}

/** cdk-nag AwsSolutions findings left unacknowledged under `scope`, one line each. */
export function nagFindings(scope: App): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`));
}

/** The single resource of `type` in `template`, with its logical id. */
export function onlyResource(template: Template, type: string): { id: string; resource: { Properties: Record<string, unknown>; [key: string]: unknown } } {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  const [id, resource] = found[0] as [string, { Properties: Record<string, unknown> }];
  return { id, resource };
}
