/**
 * The cdk-nag AwsSolutions findings on the pipeline, each acknowledged with its reason. Almost all
 * of them come from what CDK Pipelines generates (its roles, projects and artifact bucket); the
 * smoke test's own statements are acknowledged on the smoke test's project. Every id is computed
 * from the built pipeline, so a finding that changes shape shows up again instead of staying
 * silently acknowledged.
 */
import { type CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type { CodeBuildStep, CodePipeline } from 'aws-cdk-lib/pipelines';
import type { IConstruct } from 'constructs';

export interface PipelineFindingsProps {
  /** The pipeline, after `buildPipeline()`. */
  readonly pipeline: CodePipeline;
  /** The post-deploy smoke test step. */
  readonly smokeTest: CodeBuildStep;
  /** Name of the user's artifact bucket; undefined when the pipeline created its own. */
  readonly importedArtifactBucket?: string;
}

/** CDK's read/write grants on an S3 bucket use these action wildcards. */
const S3_GRANT_ACTIONS = ['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'];
export function acknowledgePipelineFindings(props: PipelineFindingsProps): void {
  const { pipeline } = props;
  // cdk-nag names a pseudo parameter <AWS::Region>, or shows the value when the stack has a fixed environment.
  const stack = Stack.of(pipeline);
  const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
  const PARTITION = shown(stack.partition, 'AWS::Partition');
  const ACCOUNT = shown(stack.account, 'AWS::AccountId');
  const REGION_ACCOUNT = `${shown(stack.region, 'AWS::Region')}:${ACCOUNT}`;
  const acknowledge = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });

  acknowledge(pipeline, 'AwsSolutions-CB4',
    'The build projects hold no secrets: artifacts are encrypted at rest by the artifact bucket and logs by CloudWatch Logs; a customer-managed KMS key would add cost and key-policy upkeep to a single-account pipeline.');
  for (const action of S3_GRANT_ACTIONS) {
    acknowledge(pipeline, `AwsSolutions-IAM5[Action::${action}]`,
      "CDK's standard grants on the pipeline's artifact bucket: the action wildcards apply to that one bucket and its objects.");
  }
  const bucket = pipeline.pipeline.artifactBucket;
  const artifactObjects = props.importedArtifactBucket !== undefined
    ? `arn:${PARTITION}:s3:::${props.importedArtifactBucket}/*`
    : `<${logicalIdOf(bucket.node.defaultChild as CfnElement)}.Arn>/*`;
  acknowledge(pipeline, `AwsSolutions-IAM5[Resource::${artifactObjects}]`,
    'Pipeline artifacts are objects with generated keys in the artifact bucket: the resource is that bucket\'s objects, nothing else.');
  if (props.importedArtifactBucket === undefined) {
    acknowledge(bucket, 'AwsSolutions-S1',
      'The artifact bucket holds short-lived build inputs and outputs, reached only through the pipeline\'s roles; CloudTrail records its API use, and access logs would need a second bucket.');
  }

  // Every CodeBuild project CDK Pipelines made writes to its own log group and report groups.
  for (const project of pipeline.node.findAll().filter((c): c is codebuild.CfnProject => c instanceof codebuild.CfnProject)) {
    const projectId = logicalIdOf(project);
    const scope = project.node.scope as IConstruct;
    acknowledge(scope, `AwsSolutions-IAM5[Resource::arn:${PARTITION}:logs:${REGION_ACCOUNT}:log-group:/aws/codebuild/<${projectId}>:*]`,
      "CodeBuild's log streams in this project's own log group.");
    acknowledge(scope, `AwsSolutions-IAM5[Resource::arn:${PARTITION}:codebuild:${REGION_ACCOUNT}:report-group/<${projectId}>-*]`,
      "This project's own CodeBuild report groups.");
  }

  // The asset publishing role is shared by every asset project CDK Pipelines creates.
  const assets = pipeline.node.findChild('Assets');
  acknowledge(assets, `AwsSolutions-IAM5[Resource::arn:${PARTITION}:logs:${REGION_ACCOUNT}:log-group:/aws/codebuild/*]`,
    'The shared asset-publishing role logs for every asset project CDK Pipelines creates, so it covers the CodeBuild log groups of this account and region.');
  acknowledge(assets, `AwsSolutions-IAM5[Resource::arn:${PARTITION}:codebuild:${REGION_ACCOUNT}:report-group/*]`,
    'The shared asset-publishing role serves every asset project, so it covers their report groups.');
  acknowledge(assets, 'AwsSolutions-IAM5[Resource::*]',
    'CDK Pipelines lets the asset-publishing role start and watch its own builds (codebuild:StartBuild/BatchGetBuilds/StopBuild), generated as a wildcard resource.');

  const selfMutation = pipeline.selfMutationProject;
  acknowledge(selfMutation, `AwsSolutions-IAM5[Resource::arn:*:iam::${ACCOUNT}:role/*]`,
    'Self-mutation assumes the CDK bootstrap roles; the role/* resource is narrowed by the iam:ResourceTag/aws-cdk:bootstrap-role condition.');
  acknowledge(selfMutation, 'AwsSolutions-IAM5[Resource::*]',
    'cdk deploy reads stack status (cloudformation:DescribeStacks) and lists the bootstrap bucket before it assumes the deploy role.');

  const smoke = props.smokeTest.project;
  acknowledge(smoke, 'AwsSolutions-IAM5[Resource::*]',
    'cloudwatch:GetMetricData supports no resource-level permissions: the trigger reads the smoke run\'s metrics to check its thresholds.');
  acknowledge(smoke, `AwsSolutions-IAM5[Resource::arn:${PARTITION}:sqs:${REGION_ACCOUNT}:LoadTest-Load-*]`,
    'The LoadTest-Load queues have CloudFormation-generated names that start with the stack name; they are created after this stack, so their ARNs cannot be referenced here.');
  acknowledge(smoke, `AwsSolutions-IAM5[Resource::arn:${PARTITION}:rds:${REGION_ACCOUNT}:cluster:loadtest-database-*]`,
    'The cluster the LoadTest-Database stack creates, whose identifier CloudFormation generates from the stack name (lowercase in RDS); created after this stack: the smoke run\'s report lists its instances (DescribeDBClusters).');
  acknowledge(smoke, `AwsSolutions-IAM5[Resource::arn:${PARTITION}:cloudformation:${REGION_ACCOUNT}:stack/LoadTest-Load/*]`,
    'The LoadTest-Load stack, whatever its stack id suffix: the trigger reads its outputs.');
}

function logicalIdOf(element: CfnElement): string {
  return Stack.of(element).resolve(element.logicalId) as string;
}
