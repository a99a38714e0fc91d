import { ArnFormat, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import { PipelineType } from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CodeBuildStep, CodePipeline, CodePipelineSource } from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import type { LoadTestConfig } from '../app/config';
import { STACK_NAMES } from '../app/load-test';
import { pin } from '../app/pin';
import type { SynthBuildSpec } from './buildspec';
import { LoadTestStage } from './load-test-stage';
import { acknowledgePipelineFindings } from './nag-acknowledgements';

export interface LoadTestPipelineStackProps extends StackProps {
  /** The validated configuration (source, artifact bucket, and what the stage deploys). */
  readonly config: LoadTestConfig;
  /** The parsed `buildspec.yml`: the synth step runs its commands. */
  readonly buildSpec: SynthBuildSpec;
}

/**
 * The self-mutating CDK Pipelines pipeline: source (CodeCommit or a CodeStar connection), the synth
 * step that `buildspec.yml` describes, then self-update (after the build: the build produces the
 * pipeline's new definition), asset publishing, the `LoadTest` stage, and a smoke test that sends
 * a tiny run and fails on its errors or on any of its messages reaching the dead-letter queue.
 */
export class LoadTestPipelineStack extends Stack {
  /** Stack id and CloudFormation name: `npx cdk deploy LoadTestPipeline`. */
  static readonly ID = 'LoadTestPipeline';

  readonly pipeline: CodePipeline;
  readonly stage: LoadTestStage;
  /** The repository `git push` deploys from; undefined with a connection source. */
  readonly repository?: codecommit.Repository;

  constructor(scope: Construct, id: string, props: LoadTestPipelineStackProps) {
    super(scope, id, props);
    const { config, buildSpec } = props;
    const sourceConfig = config.pipeline.source;

    let source: CodePipelineSource;
    if (sourceConfig.kind === 'codecommit') {
      this.repository = new codecommit.Repository(this, 'Repository', {
        repositoryName: sourceConfig.repositoryName,
        description: 'Aurora load test: git push here deploys (the LoadTestPipeline pipeline)',
      });
      // The repository holds the code: it outlives the pipeline stack.
      this.repository.applyRemovalPolicy(RemovalPolicy.RETAIN);
      pin(this.repository, 'Repository');
      source = CodePipelineSource.codeCommit(this.repository, sourceConfig.branch, { actionName: 'CodeCommit' });
    } else {
      source = CodePipelineSource.connection(sourceConfig.repository, sourceConfig.branch, {
        connectionArn: sourceConfig.connectionArn,
        triggerOnPush: true,
        actionName: 'Connection',
      });
    }

    const artifactBucketName = config.pipeline.artifactBucket;
    const runtimeVersions = Object.keys(buildSpec.runtimeVersions).length > 0
      ? codebuild.BuildSpec.fromObject({ phases: { install: { 'runtime-versions': buildSpec.runtimeVersions } } })
      : undefined;

    const synth = new CodeBuildStep('Synth', {
      input: source,
      installCommands: [...buildSpec.installCommands],
      commands: [...buildSpec.commands],
      // A BUCKET given once (by -c or the environment) must survive the pipeline's own synth, or
      // self-mutation would swap the artifact store of a running pipeline.
      env: { ...buildSpec.env, ...(artifactBucketName !== undefined ? { BUCKET: artifactBucketName } : {}) },
      primaryOutputDirectory: buildSpec.outputDirectory,
      // npm test runs the embedded PostgreSQL integration tests and bundles the worker.
      buildEnvironment: { computeType: codebuild.ComputeType.MEDIUM },
    });

    this.pipeline = new CodePipeline(this, 'Pipeline', {
      pipelineName: LoadTestPipelineStack.ID,
      pipelineType: PipelineType.V2,
      selfMutation: true,
      publishAssetsInParallel: false,
      crossAccountKeys: false,
      synth,
      ...(artifactBucketName !== undefined
        ? { artifactBucket: s3.Bucket.fromBucketName(this, 'ArtifactBucket', artifactBucketName) }
        : {}),
      codeBuildDefaults: {
        // x86_64: the embedded PostgreSQL binaries the tests use are installed for linux-x64.
        buildEnvironment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0 },
        ...(runtimeVersions ? { partialBuildSpec: runtimeVersions } : {}),
      },
    });

    // The stage deploys where the pipeline runs: same environment (or both environment-agnostic).
    this.stage = new LoadTestStage(this, LoadTestStage.ID, { config, ...(props.env ? { env: props.env } : {}) });
    const smokeTest = new CodeBuildStep('SmokeTest', {
      input: source,
      installCommands: [...buildSpec.installCommands],
      // A tiny run that must succeed, judged on its own messages only: dlq<1 counts the messages of
      // this run that the workers dead-lettered, not what older runs left in the queue. The trigger
      // finds the queue, the metric namespace and the cluster through the stage's load stack, by
      // name (the trigger refuses --queue-url with a dlq threshold: a hand-passed URL could name
      // another deployment's queue while the metrics are read from this one).
      commands: [
        `node trigger --reader --writer --rate 5 --duration 10s --stack ${this.stage.stacks.load.stackName} --threshold "errors<1%" --threshold "dlq<1"`,
      ],
      rolePolicyStatements: this.smokeTestPolicy(config),
    });
    this.pipeline.addStage(this.stage, { post: [smokeTest] });

    // Build now rather than at synth, so the generated roles and projects can be acknowledged.
    this.pipeline.buildPipeline();
    acknowledgePipelineFindings({
      pipeline: this.pipeline,
      smokeTest,
      ...(artifactBucketName !== undefined ? { importedArtifactBucket: artifactBucketName } : {}),
    });
  }

  /**
   * What the smoke test's trigger run calls: the load stack's queues and outputs, the metrics, and
   * the cluster's instances for the database section of its report.
   * test/app/iam-from-calls.test.ts runs its command line and checks both ways: every call allowed,
   * every action used.
   */
  private smokeTestPolicy(config: LoadTestConfig): iam.PolicyStatement[] {
    // The queues are CloudFormation-named, which prefixes the stack name; the stage's stacks are
    // not known to this stack until the pipeline deploys them.
    const loadQueues = this.formatArn({ service: 'sqs', resource: `${STACK_NAMES.load}-*`, arnFormat: ArnFormat.NO_RESOURCE_NAME });
    const loadStack = this.formatArn({
      service: 'cloudformation',
      resource: 'stack',
      resourceName: `${STACK_NAMES.load}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    return [
      new iam.PolicyStatement({
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        resources: [loadQueues],
      }),
      new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [loadStack] }),
      // The report reads the run's metrics; GetMetricData has no resource-level permissions.
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
      ...this.clusterReadPolicy(config),
    ];
  }

  /**
   * DescribeDBClusters on the cluster whose identifier the load stack outputs (the report lists
   * its instances to read their metrics): yours in bring-your-own mode, none without one; in create
   * mode the one the database stack creates, whose identifier CloudFormation generates from the
   * stack name, which RDS stores in lowercase.
   */
  private clusterReadPolicy(config: LoadTestConfig): iam.PolicyStatement[] {
    const db = config.database;
    const cluster = db.mode === 'existing' ? db.clusterIdentifier : `${STACK_NAMES.database.toLowerCase()}-*`;
    if (cluster === undefined) return [];
    const arn = this.formatArn({ service: 'rds', resource: 'cluster', resourceName: cluster, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    return [new iam.PolicyStatement({ actions: ['rds:DescribeDBClusters'], resources: [arn] })];
  }
}
