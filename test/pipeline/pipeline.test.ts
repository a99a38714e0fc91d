import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { expect } from 'chai';
import { load } from 'js-yaml';
import { BYO_CONTEXT, nagFindings, ROOT, synthPipeline } from '../app/synth';
import { STACK_NAMES } from '../../app/load-test';

interface BuildSpecDoc {
  env?: { variables?: Record<string, string> };
  phases: Record<string, { commands?: string[]; 'runtime-versions'?: Record<string, unknown> }>;
  artifacts?: Record<string, unknown>;
}

const CONNECTION_ARN = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/12345678-1234-1234-1234-123456789012';
const CONNECTION_CONTEXT = { ConnectionArn: CONNECTION_ARN, ConnectionRepository: 'octo/aurora-load-test', Branch: 'release' };

/** The BuildSpec (a JSON string in the template) of the CodeBuild project whose logical id starts with `prefix`. */
function buildSpecOf(template: Template, prefix: string): BuildSpecDoc {
  const projects = Object.entries(template.findResources('AWS::CodeBuild::Project')).filter(([id]) => id.startsWith(prefix));
  if (projects.length !== 1) throw new Error(`expected one project ${prefix}*, found ${projects.length}`);
  const [, project] = projects[0] as [string, { Properties: { Source: { BuildSpec: string } } }];
  return JSON.parse(project.Properties.Source.BuildSpec) as BuildSpecDoc;
}

function pipelineProps(template: Template): { Stages: Array<{ Name: string; Actions: Array<Record<string, unknown>> }>; [key: string]: unknown } {
  const pipeline = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0] as { Properties: ReturnType<typeof pipelineProps> };
  return pipeline.Properties;
}

describe('pipeline: the self-mutating CDK Pipelines pipeline', () => {
  let template: Template;
  before(() => {
    template = synthPipeline().template;
  });

  it('is named LoadTestPipeline, in the stack LoadTestPipeline', () => {
    expect(synthPipeline().stack.stackName).to.equal('LoadTestPipeline');
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { Name: 'LoadTestPipeline' });
  });

  it('is a V2 pipeline', () => {
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { PipelineType: 'V2' });
  });

  it('mutates itself after the build, before it deploys', () => {
    expect(pipelineProps(template).Stages.map((s) => s.Name)).to.deep.equal(['Source', 'Build', 'UpdatePipeline', 'Assets', 'LoadTest']);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      RestartExecutionOnUpdate: true,
      Stages: Match.arrayWith([Match.objectLike({ Name: 'UpdatePipeline', Actions: [Match.objectLike({ Name: 'SelfMutate' })] })]),
    });
    expect(buildSpecOf(template, 'PipelineUpdatePipelineSelfMutation').phases.build?.commands?.join('\n')).to.match(/cdk -a \. deploy LoadTestPipeline/);
  });

  it('publishes the assets one after the other, in one project', () => {
    const assets = pipelineProps(template).Stages.find((s) => s.Name === 'Assets');
    expect(assets?.Actions).to.have.length(1);
  });

  describe('the build runs buildspec.yml', () => {
    let file: BuildSpecDoc;
    let synth: BuildSpecDoc;
    before(() => {
      file = load(readFileSync(path.join(ROOT, 'buildspec.yml'), 'utf8')) as BuildSpecDoc;
      synth = buildSpecOf(template, 'PipelineBuildSynthCdkBuildProject');
    });

    it('installs with the install commands of buildspec.yml', () => {
      expect(synth.phases.install?.commands).to.deep.equal(file.phases.install?.commands);
    });

    it('builds with the pre_build and build commands of buildspec.yml, tests before synth', () => {
      expect(synth.phases.build?.commands).to.deep.equal([...(file.phases.pre_build?.commands ?? []), ...(file.phases.build?.commands ?? [])]);
      expect(synth.phases.build?.commands).to.deep.equal(['npm test', 'npx cdk synth']);
    });

    it('uses the runtime versions of buildspec.yml', () => {
      expect(synth.phases.install?.['runtime-versions']).to.deep.equal(file.phases.install?.['runtime-versions']);
    });

    it('takes the cloud assembly from the artifact directory of buildspec.yml', () => {
      expect(synth.artifacts?.['base-directory']).to.equal(file.artifacts?.['base-directory']);
    });

    it('sets the variables of buildspec.yml', () => {
      const variables = new Capture();
      template.hasResourceProperties('AWS::CodeBuild::Project', {
        Source: { BuildSpec: Match.stringLikeRegexp('npx cdk synth') },
        Environment: { EnvironmentVariables: variables },
      });
      expect(variables.asArray()).to.deep.include.members(
        Object.entries(file.env?.variables ?? {}).map(([Name, Value]) => ({ Name, Type: 'PLAINTEXT', Value: String(Value) })),
      );
    });
  });

  it('sources from a CodeCommit repository it creates, named aurora-load-test, branch main', () => {
    template.hasResource('AWS::CodeCommit::Repository', { Properties: { RepositoryName: 'aurora-load-test' }, DeletionPolicy: 'Retain' });
    expect(Object.keys(template.findResources('AWS::CodeCommit::Repository'))).to.deep.equal(['Repository']);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([Match.objectLike({
        Name: 'Source',
        Actions: [Match.objectLike({ ActionTypeId: Match.objectLike({ Provider: 'CodeCommit' }), Configuration: Match.objectLike({ BranchName: 'main' }) })],
      })]),
    });
  });

  it('creates its own artifact bucket when BUCKET is not given', () => {
    template.resourceCountIs('AWS::S3::Bucket', 1);
  });

  it('deploys the LoadTest stage: network, database, then load', () => {
    const actions = pipelineProps(template).Stages.find((s) => s.Name === 'LoadTest')?.Actions.map((a) => a.Name);
    expect(actions).to.deep.equal([
      'Network.Prepare', 'Network.Deploy', 'Database.Prepare', 'Database.Deploy', 'Load.Prepare', 'Load.Deploy', 'SmokeTest',
    ]);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([Match.objectLike({
        Name: 'LoadTest',
        Actions: Match.arrayWith([Match.objectLike({ Name: 'Load.Deploy', Configuration: Match.objectLike({ StackName: 'LoadTest-Load' }) })]),
      })]),
    });
  });

  describe('the smoke test after the deployment', () => {
    it('sends a tiny run to the stage\'s load stack, found by name, and fails on its errors or on any of its own messages dead-lettered', () => {
      expect(buildSpecOf(template, 'PipelineLoadTestSmokeTest').phases.build?.commands).to.deep.equal([
        `node trigger --reader --writer --rate 5 --duration 10s --stack ${STACK_NAMES.load} --threshold "errors<1%" --threshold "dlq<1"`,
      ]);
    });

    it('passes the trigger no queue URL: it finds the queue through the stack lookup', () => {
      const smoke = pipelineProps(template).Stages.find((s) => s.Name === 'LoadTest')?.Actions.find((a) => a.Name === 'SmokeTest');
      expect(smoke, 'the smoke test action').not.to.equal(undefined);
      expect((smoke?.Configuration as { EnvironmentVariables?: string }).EnvironmentVariables).to.equal(undefined);
    });
  });

  it('leaves no unacknowledged cdk-nag finding, in the pipeline or the stage it deploys', () => {
    expect(nagFindings(synthPipeline().app)).to.deep.equal([]);
  });

  describe('with BUCKET', () => {
    let withBucket: Template;
    before(() => {
      withBucket = synthPipeline({ BUCKET: 'team-pipeline-artifacts' }).template;
    });

    it('stores artifacts in the given bucket', () => {
      withBucket.hasResourceProperties('AWS::CodePipeline::Pipeline', { ArtifactStore: { Type: 'S3', Location: 'team-pipeline-artifacts' } });
    });

    it('creates no bucket', () => {
      withBucket.resourceCountIs('AWS::S3::Bucket', 0);
    });

    it('passes BUCKET to its own build, so self-mutation keeps the artifact store', () => {
      withBucket.hasResourceProperties('AWS::CodeBuild::Project', {
        Source: { BuildSpec: Match.stringLikeRegexp('npx cdk synth') },
        Environment: { EnvironmentVariables: Match.arrayWith([{ Name: 'BUCKET', Type: 'PLAINTEXT', Value: 'team-pipeline-artifacts' }]) },
      });
    });

    it('leaves no unacknowledged cdk-nag finding', () => {
      expect(nagFindings(synthPipeline({ BUCKET: 'team-pipeline-artifacts' }).app)).to.deep.equal([]);
    });
  });

  describe('with a CodeStar connection', () => {
    let connected: Template;
    before(() => {
      connected = synthPipeline(CONNECTION_CONTEXT).template;
    });

    it('sources from the connection, repository and branch', () => {
      connected.hasResourceProperties('AWS::CodePipeline::Pipeline', {
        Stages: Match.arrayWith([Match.objectLike({
          Name: 'Source',
          Actions: [Match.objectLike({
            ActionTypeId: Match.objectLike({ Provider: 'CodeStarSourceConnection' }),
            Configuration: Match.objectLike({ ConnectionArn: CONNECTION_ARN, FullRepositoryId: 'octo/aurora-load-test', BranchName: 'release' }),
          })],
        })]),
      });
    });

    it('creates no CodeCommit repository', () => {
      connected.resourceCountIs('AWS::CodeCommit::Repository', 0);
    });

    it('leaves no unacknowledged cdk-nag finding', () => {
      expect(nagFindings(synthPipeline(CONNECTION_CONTEXT).app)).to.deep.equal([]);
    });
  });

  describe('with an existing database', () => {
    it('deploys the load stack alone', () => {
      const actions = pipelineProps(synthPipeline(BYO_CONTEXT).template).Stages.find((s) => s.Name === 'LoadTest')?.Actions.map((a) => a.Name);
      expect(actions).to.deep.equal(['Load.Prepare', 'Load.Deploy', 'SmokeTest']);
    });

    it('leaves no unacknowledged cdk-nag finding', () => {
      expect(nagFindings(synthPipeline(BYO_CONTEXT).app)).to.deep.equal([]);
    });
  });
});
