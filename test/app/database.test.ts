import { App, Stage } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { expect } from 'chai';
import { DatabaseStack } from '../../app/database/database-stack';
import { NetworkStack } from '../../app/network/network-stack';
import { configOf, type Context, newApp, synthStacks, TEST_ENV } from './synth';

/** The network and database stacks alone (no worker to bundle), for configuration variants. */
function databaseTemplate(context: Context): Template {
  const app: App = newApp(context);
  const db = configOf(app).database;
  if (db.mode !== 'create') throw new Error('a create-mode context is needed');
  const stage = new Stage(app, 'LoadTest', { env: TEST_ENV });
  const network = new NetworkStack(stage, 'Network').network;
  const database = new DatabaseStack(stage, 'Database', {
    database: {
      vpc: network.vpc,
      subnets: network.privateSubnets,
      clientSecurityGroup: network.workerSecurityGroup,
      engineVersion: db.engineVersion,
      capacity: db.capacity,
      readerCount: db.readerCount,
    },
  });
  return Template.fromStack(database);
}

describe('app/database: the Aurora PostgreSQL cluster', () => {
  let template: Template;
  before(() => {
    const database = synthStacks().database;
    if (!database) throw new Error('create mode has a database stack');
    template = database;
  });

  it('pins the engine: aurora-postgresql 16.13', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', { Engine: 'aurora-postgresql', EngineVersion: '16.13' });
  });

  it('uses the configured EngineVersion', () => {
    databaseTemplate({ EngineVersion: '17.5' }).hasResourceProperties('AWS::RDS::DBCluster', { EngineVersion: '17.5' });
  });

  it('encrypts storage', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', { StorageEncrypted: true });
  });

  it('makes no instance publicly accessible', () => {
    const instances = template.findResources('AWS::RDS::DBInstance');
    expect(Object.values(instances).map((i) => (i as { Properties: { PubliclyAccessible: unknown } }).Properties.PubliclyAccessible))
      .to.deep.equal([false, false]);
  });

  it('runs a writer and one reader by default (instances = 1 + readers)', () => {
    template.resourceCountIs('AWS::RDS::DBInstance', 2);
  });

  it('runs 1 + ReaderCount instances', () => {
    databaseTemplate({ ReaderCount: 3 }).resourceCountIs('AWS::RDS::DBInstance', 4);
  });

  it('uses Serverless v2 by default, between 0.5 and 16 ACU', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', { ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 } });
    template.allResourcesProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' });
  });

  it('scales to 0 ACU (auto-pause) with the first engine version of a major that supports it', () => {
    databaseTemplate({ ServerlessMinCapacity: 0, EngineVersion: '15.7' }).hasResourceProperties('AWS::RDS::DBCluster', {
      EngineVersion: '15.7', ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 16 },
    });
  });

  it('uses the provisioned instance class when one is configured', () => {
    databaseTemplate({ InstanceClass: 'r6g.large' }).allResourcesProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.r6g.large' });
  });

  it('keeps a final snapshot when the cluster is removed', () => {
    template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
  });

  it('generates the master secret and attaches it to the cluster', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"postgres"}', GenerateStringKey: 'password' }),
    });
    template.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', { TargetType: 'AWS::RDS::DBCluster' });
  });

  it('admits PostgreSQL from the worker security group and nothing else', () => {
    const source = new Capture();
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, GroupId: { 'Fn::GetAtt': ['ClusterSecurityGroup', 'GroupId'] }, SourceSecurityGroupId: source,
    });
    expect(JSON.stringify(source.asObject())).to.match(/WorkerSecurityGroup/);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('Aurora load test cluster'), SecurityGroupIngress: Match.absent() });
  });

  it('pins the logical ids of the stateful resources', () => {
    const ids = (type: string) => Object.keys(template.findResources(type));
    expect({
      cluster: ids('AWS::RDS::DBCluster'),
      instances: ids('AWS::RDS::DBInstance'),
      secret: ids('AWS::SecretsManager::Secret'),
      subnetGroup: ids('AWS::RDS::DBSubnetGroup'),
      securityGroup: ids('AWS::EC2::SecurityGroup'),
    }).to.deep.equal({
      cluster: ['Cluster'],
      instances: ['ClusterWriter', 'ClusterReader1'],
      secret: ['ClusterSecret'],
      subnetGroup: ['ClusterSubnetGroup'],
      securityGroup: ['ClusterSecurityGroup'],
    });
  });
});
