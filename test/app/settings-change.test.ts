/**
 * Every setting can change after the first deploy: synthesize before and after each change and
 * compare the stateful resources. A stateful resource that keeps its logical id but changes a
 * property whose update CloudFormation documents as "Replacement" would be replaced (a new VPC, a
 * new empty cluster, subnets with new CIDRs that overlap the old ones); one that disappears would
 * be deleted. Both fail here, except the changes the README documents.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { CONTEXT_KEYS } from '../../app/config';
import { BYO_CONTEXT, type Context, ROOT, synthPipeline, synthStacks } from './synth';

interface Resource { Type: string; Properties?: Record<string, unknown> }
type Templates = Record<string, Record<string, Resource>>;

/**
 * The stateful resource types and the properties whose change requires replacement, from the
 * CloudFormation template reference ("Update requires: Replacement") of each type.
 */
const REPLACED_BY: Record<string, readonly string[]> = {
  'AWS::EC2::VPC': ['CidrBlock', 'InstanceTenancy', 'Ipv4IpamPoolId', 'Ipv4NetmaskLength'],
  'AWS::EC2::Subnet': ['AvailabilityZone', 'AvailabilityZoneId', 'CidrBlock', 'Ipv4IpamPoolId', 'Ipv4NetmaskLength', 'OutpostArn', 'VpcId'],
  'AWS::EC2::SecurityGroup': ['GroupDescription', 'GroupName', 'VpcId'],
  'AWS::RDS::DBCluster': [
    'AvailabilityZones', 'DBClusterIdentifier', 'DBSubnetGroupName', 'DatabaseName', 'Engine', 'EngineMode', 'KmsKeyId', 'MasterUsername',
    'PubliclyAccessible', 'RestoreType', 'SnapshotIdentifier', 'SourceDBClusterIdentifier', 'SourceRegion', 'StorageEncrypted',
  ],
  'AWS::RDS::DBInstance': ['CharacterSetName', 'DBClusterIdentifier', 'DBInstanceIdentifier', 'DBName', 'DBSnapshotIdentifier', 'KmsKeyId', 'SourceDBInstanceIdentifier', 'StorageEncrypted'],
  'AWS::RDS::DBSubnetGroup': ['DBSubnetGroupName'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::SQS::Queue': ['FifoQueue', 'QueueName'],
  'AWS::CodeCommit::Repository': [],
  'AWS::S3::Bucket': ['BucketName'],
};

/** No worker bundle: the templates are the same, and these tests synthesize many variants. */
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as const;

function stageTemplates(context: Context): Templates {
  const s = synthStacks({ ...NO_BUNDLING, ...context });
  const out: Templates = {};
  for (const [name, t] of Object.entries({ network: s.network, database: s.database, load: s.load })) {
    if (t) out[name] = (t.toJSON() as { Resources: Record<string, Resource> }).Resources;
  }
  return out;
}

function pipelineTemplates(context: Context): Templates {
  return { pipeline: (synthPipeline({ ...NO_BUNDLING, ...context }).template.toJSON() as { Resources: Record<string, Resource> }).Resources };
}

/** What a deploy from `before` to `after` would replace or delete among the stateful resources, one line each. */
function statefulChanges(before: Templates, after: Templates): string[] {
  const out: string[] = [];
  for (const [stack, resources] of Object.entries(before)) {
    for (const [id, r] of Object.entries(resources)) {
      const props = REPLACED_BY[r.Type];
      if (!props) continue;
      const next = after[stack]?.[id];
      if (!next) { out.push(`${stack}/${id} deleted`); continue; }
      if (next.Type !== r.Type) { out.push(`${stack}/${id} replaced: ${r.Type} -> ${next.Type}`); continue; }
      for (const p of props) {
        const [a, b] = [JSON.stringify(r.Properties?.[p]), JSON.stringify(next.Properties?.[p])];
        if (a !== b) out.push(`${stack}/${id} replaced: ${p} ${a} -> ${b}`);
      }
    }
  }
  return out;
}

interface Change {
  readonly name: string;
  readonly before: Context;
  readonly after: Context;
  /** Replacements and deletions the README documents for this change, as statefulChanges() words them. */
  readonly documented?: readonly RegExp[];
  readonly pipeline?: boolean;
}

const BYO_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:rds!cluster-0123abcd-4567-89ef-0123-456789abcdef-AbCdEf';

const CHANGES: readonly Change[] = [
  { name: 'ReaderCount 1 -> 3', before: {}, after: { ReaderCount: 3 } },
  { name: 'ReaderCount 3 -> 1 (deletes the last readers, as documented)', before: { ReaderCount: 3 }, after: { ReaderCount: 1 }, documented: [/^database\/ClusterReader[23] deleted$/] },
  { name: 'InstanceClass serverless -> r6g.large', before: {}, after: { InstanceClass: 'r6g.large' } },
  { name: 'ServerlessMinCapacity and ServerlessMaxCapacity', before: {}, after: { ServerlessMinCapacity: 0, ServerlessMaxCapacity: 32 } },
  { name: 'EngineVersion 16.13 -> 17.5 (a major upgrade)', before: {}, after: { EngineVersion: '17.5' } },
  { name: 'DbName postgres -> app (replaces the cluster, as documented)', before: {}, after: { DbName: 'app' }, documented: [/^database\/Cluster replaced: DatabaseName undefined -> "app"$/] },
  { name: 'NatGateways 1 -> 0 (deletes the public subnets, as documented)', before: {}, after: { NatGateways: 0 }, documented: [/^network\/NetworkVpcPublicSubnet[12]Subnet[0-9A-F]+ deleted$/] },
  {
    name: 'NatGateways 0 -> 1 (removes the interface endpoints and their security group, which default to on only with 0)',
    before: { NatGateways: 0 },
    after: { NatGateways: 1 },
    documented: [/^network\/NetworkEndpointSecurityGroup[0-9A-F]+ deleted$/],
  },
  { name: 'NatGateways 0 -> 1 with InterfaceEndpoints=true', before: { NatGateways: 0 }, after: { NatGateways: 1, InterfaceEndpoints: true } },
  { name: 'NatGateways 1 -> 2', before: {}, after: { NatGateways: 2 } },
  { name: 'InterfaceEndpoints false -> true', before: {}, after: { InterfaceEndpoints: true } },
  {
    name: 'the worker settings',
    before: {},
    after: { WorkerMaxConcurrency: 50, WorkerReservedConcurrency: 60, WorkerBatchSize: 5, WorkerPoolMax: 8, MetricNamespace: 'Team/LoadTest', AllowedHosts: 'replica.example.com', Scale: 10 },
  },
  {
    name: 'bring-your-own: another secret (an RDS-managed one, by ARN), its KMS key, port, database, cluster, network',
    before: BYO_CONTEXT,
    after: {
      ...BYO_CONTEXT, SecretName: BYO_ARN, SecretKmsKey: 'arn:aws:kms:eu-west-1:111111111111:key/0123abcd-4567-89ef-0123-456789abcdef',
      DbPort: 6432, DbName: 'app', DbClusterIdentifier: 'prod-aurora', SecurityGroups: 'sg-0123456789abcdef1', Subnets: 'subnet-0ccccccccccccccc3,subnet-0ddddddddddddddd4',
      VpcId: 'vpc-0fedcba9876543210', WriterEndpoint: 'other.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com', ReaderEndpoint: 'other.cluster-ro-abcdefghijkl.eu-west-1.rds.amazonaws.com',
    },
  },
  { name: 'RepositoryName and Branch', before: {}, after: { RepositoryName: 'team-load-test', Branch: 'release' }, pipeline: true },
  { name: 'BUCKET (the pipeline\'s own bucket is retained, as documented)', before: {}, after: { BUCKET: 'team-pipeline-artifacts' }, pipeline: true, documented: [/^pipeline\/PipelineArtifactsBucket[0-9A-F]+ deleted$/] },
  {
    name: 'CodeCommit -> a connection (the repository is retained, as documented)',
    before: {},
    after: { ConnectionArn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/12345678-1234-1234-1234-123456789012', ConnectionRepository: 'octo/aurora-load-test' },
    pipeline: true,
    documented: [/^pipeline\/Repository deleted$/],
  },
];

describe('app: every setting can change after the first deploy', function () {
  this.timeout(300_000);

  for (const change of CHANGES) {
    it(`${change.name}: replaces and deletes no stateful resource${change.documented ? ' but the documented ones' : ''}`, () => {
      const synth = change.pipeline ? pipelineTemplates : stageTemplates;
      const found = statefulChanges(synth(change.before), synth(change.after));
      const undocumented = found.filter((line) => !(change.documented ?? []).some((re) => re.test(line)));
      expect(undocumented).to.deep.equal([]);
      // A documented exception that no longer happens is a README to correct.
      for (const re of change.documented ?? []) expect(found.some((line) => re.test(line)), `${re} no longer happens`).to.equal(true);
    });
  }

  it('NatGateways=0 gives every subnet it keeps the CIDR the default gives it', () => {
    const cidrs = (t: Templates) => Object.fromEntries(Object.entries(t.network!).filter(([, r]) => r.Type === 'AWS::EC2::Subnet').map(([id, r]) => [id, r.Properties!.CidrBlock]));
    const isolated = cidrs(stageTemplates({ NatGateways: 0 }));
    const defaults = cidrs(stageTemplates({}));
    expect(Object.keys(isolated)).to.have.length(2);
    for (const [id, cidr] of Object.entries(isolated)) expect(defaults[id], id).to.equal(cidr);
  });

  it('upgrades EngineVersion to a new major in place, with the parameter group of that major', () => {
    const cluster = (t: Templates) => Object.values(t.database!).find((r) => r.Type === 'AWS::RDS::DBCluster')!.Properties!;
    expect(cluster(stageTemplates({ EngineVersion: '17.5' }))).to.deep.include({ EngineVersion: '17.5', DBClusterParameterGroupName: 'default.aurora-postgresql17' });
    expect(cluster(stageTemplates({}))).to.deep.include({ EngineVersion: '16.13', DBClusterParameterGroupName: 'default.aurora-postgresql16' });
  });

  it('synthesizes every setting the app reads, and the README documents each of them', () => {
    const used = new Set(CHANGES.flatMap((c) => [...Object.keys(c.before), ...Object.keys(c.after)]));
    const keys = Object.values(CONTEXT_KEYS);
    expect(keys.filter((k) => !used.has(k)), 'settings no change here synthesizes').to.deep.equal([]);
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const deploy = readme.slice(readme.indexOf('<!-- section:deploy -->'), readme.indexOf('<!-- /section:deploy -->'));
    expect(keys.filter((k) => !deploy.includes(`\`${k}\``)), 'settings the README does not document').to.deep.equal([]);
  });
});
