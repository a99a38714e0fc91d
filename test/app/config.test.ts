import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig, type LoadTestConfig } from '../../app/config';
import { BYO_CONTEXT, type Context, ROOT } from './synth';

function load(context: Context, env: Record<string, string> = {}): LoadTestConfig {
  return loadConfig({ context: (key) => context[key], contextKeys: Object.keys(context), env });
}

/** The one-line ConfigError that `context` produces. */
function mistake(context: Context): string {
  try {
    load(context);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message, 'a configuration error is one line').not.to.include('\n');
    return message;
  }
  throw new Error(`expected ${JSON.stringify(context)} to be rejected`);
}

describe('app/config: CDK context is read once and validated', () => {
  describe('defaults', () => {
    const config = load({});

    it('creates the VPC and the cluster: serverless v2 (0.5-16 ACU), one reader, Aurora PostgreSQL 16.13', () => {
      expect(config.database).to.deep.equal({
        mode: 'create',
        readerCount: 1,
        capacity: { kind: 'serverless', minCapacity: 0.5, maxCapacity: 16 },
        engineVersion: '16.13',
        databaseName: 'postgres',
        natGateways: 1,
        interfaceEndpoints: false,
      });
    });

    it('sources from the CodeCommit repository aurora-load-test, branch main, and creates the artifact bucket', () => {
      expect(config.pipeline).to.deep.equal({ source: { kind: 'codecommit', repositoryName: 'aurora-load-test', branch: 'main' } });
    });

    it('runs at most 10 workers, one message per invocation, 4 connections per pool, namespace AuroraLoadTest', () => {
      expect(config.worker).to.deep.equal({
        maxConcurrency: 10, batchSize: 1, poolMax: 4, metricNamespace: 'AuroraLoadTest', allowedHosts: [], scale: 1,
      });
    });
  });

  describe('values', () => {
    it('takes BUCKET from the environment, as the seed\'s build did', () => {
      expect(load({}, { BUCKET: 'team-artifacts' }).pipeline.artifactBucket).to.equal('team-artifacts');
    });

    it('prefers BUCKET from context over the environment', () => {
      expect(load({ BUCKET: 'from-context' }, { BUCKET: 'from-env' }).pipeline.artifactBucket).to.equal('from-context');
    });

    it('selects bring-your-own mode from SecretName, SecurityGroups, Subnets, VpcId and the endpoints', () => {
      expect(load(BYO_CONTEXT).database).to.deep.equal({
        mode: 'existing',
        secretName: 'loadtest/aurora-master',
        securityGroupIds: ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'],
        subnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
        vpcId: 'vpc-0123456789abcdef0',
        writerEndpoint: 'prod.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com',
        readerEndpoint: 'prod.cluster-ro-abcdefghijkl.eu-west-1.rds.amazonaws.com',
        port: 5432,
        databaseName: 'postgres',
      });
    });

    it('accepts lists as JSON arrays from cdk.json as well as comma-separated strings from -c', () => {
      const config = load({ ...BYO_CONTEXT, Subnets: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'] });
      expect(config.database.mode === 'existing' && config.database.subnetIds).to.deep.equal(['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2']);
    });

    it('accepts numbers from cdk.json as well as strings from -c', () => {
      expect(load({ WorkerMaxConcurrency: 50 }).worker.maxConcurrency).to.equal(50);
      expect(load({ WorkerMaxConcurrency: '50' }).worker.maxConcurrency).to.equal(50);
    });

    it('uses a CodeStar connection when ConnectionArn and ConnectionRepository are given', () => {
      const arn = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/12345678-1234-1234-1234-123456789012';
      expect(load({ ConnectionArn: arn, ConnectionRepository: 'octo/load-test', Branch: 'release' }).pipeline.source)
        .to.deep.equal({ kind: 'connection', connectionArn: arn, repository: 'octo/load-test', branch: 'release' });
    });

    it('accepts the secrets RDS manages, by name and by ARN', () => {
      const name = 'rds!cluster-0123abcd-4567-89ef-0123-456789abcdef';
      const arn = `arn:aws:secretsmanager:eu-west-1:111111111111:secret:${name}-AbCdEf`;
      for (const secretName of [name, arn]) expect(load({ ...BYO_CONTEXT, SecretName: secretName }).database).to.include({ secretName });
    });

    it('takes the customer-managed KMS key of a bring-your-own secret', () => {
      const key = 'arn:aws:kms:eu-west-1:111111111111:key/0123abcd-4567-89ef-0123-456789abcdef';
      expect(load({ ...BYO_CONTEXT, SecretKmsKey: key }).database).to.include({ secretKmsKeyArn: key });
    });

    it('reserves no concurrency unless WorkerReservedConcurrency is given', () => {
      expect(load({}).worker).not.to.have.property('reservedConcurrency');
      expect(load({ WorkerReservedConcurrency: 11 }).worker).to.include({ reservedConcurrency: 11 });
    });

    it('allows a Scale up to what the deploy-time init can load in its 14 minutes', () => {
      expect(load({ Scale: 260 }).worker.scale).to.equal(260);
    });

    it('creates interface endpoints by default when there is no NAT gateway', () => {
      expect(load({ NatGateways: 0 }).database).to.include({ natGateways: 0, interfaceEndpoints: true });
    });

    it('accepts a provisioned instance class, with or without the db. prefix', () => {
      expect(load({ InstanceClass: 'db.r6g.large' }).database).to.deep.include({ capacity: { kind: 'provisioned', instanceClass: 'r6g.large' } });
    });
  });

  describe('mistakes fail with one line naming the keys', () => {
    const cases: Array<[string, Context, string | RegExp]> = [
      ['bring-your-own keys without Subnets', { ...BYO_CONTEXT, Subnets: undefined },
        'bring-your-own mode needs SecretName, SecurityGroups, Subnets, VpcId, WriterEndpoint and ReaderEndpoint; missing: Subnets'],
      ['SecretName alone', { SecretName: 'x' },
        'bring-your-own mode needs SecretName, SecurityGroups, Subnets, VpcId, WriterEndpoint and ReaderEndpoint; missing: SecurityGroups, Subnets, VpcId, WriterEndpoint, ReaderEndpoint'],
      ['ReaderCount with an existing database', { ...BYO_CONTEXT, ReaderCount: 2 },
        /^ReaderCount applies only when the stacks create the database, but SecretName, SecurityGroups, Subnets, VpcId, WriterEndpoint, ReaderEndpoint select an existing one/],
      ['a security group that is not an sg- id', { ...BYO_CONTEXT, SecurityGroups: 'sg-0123456789abcdef0,default' },
        /^SecurityGroups must be a comma-separated list of security group ids/],
      ['a subnet that is not a subnet- id', { ...BYO_CONTEXT, Subnets: 'subnet-0aaaaaaaaaaaaaaa1,10.0.0.0/24' },
        /^Subnets must be a comma-separated list of subnet ids/],
      ['the same subnet twice', { ...BYO_CONTEXT, Subnets: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa1' }, /^Subnets lists the same id twice/],
      ['a VPC id that is not vpc-', { ...BYO_CONTEXT, VpcId: 'my-vpc' }, /^VpcId must be a VPC id/],
      ['an endpoint given as a URL', { ...BYO_CONTEXT, WriterEndpoint: 'postgres://db.example.com:5432' }, /^WriterEndpoint must be a host name/],
      ['a secret ARN that is not Secrets Manager\'s', { ...BYO_CONTEXT, SecretName: 'arn:aws:ssm:eu-west-1:111111111111:parameter/x' }, /^SecretName must be a Secrets Manager secret name \(yours, or rds!cluster-\.\.\. as RDS names the secrets it manages\) or its complete ARN/],
      ['a KMS key given by alias', { ...BYO_CONTEXT, SecretKmsKey: 'arn:aws:kms:eu-west-1:111111111111:alias/team' }, /^SecretKmsKey must be the ARN of the KMS key that encrypts the secret \(arn:aws:kms:REGION:ACCOUNT:key\/ID; not an alias\)/],
      ['SecretKmsKey for a created database', { SecretKmsKey: 'arn:aws:kms:eu-west-1:111111111111:key/0123abcd-4567-89ef-0123-456789abcdef' },
        /^bring-your-own mode needs SecretName, SecurityGroups, Subnets, VpcId, WriterEndpoint and ReaderEndpoint; missing: SecretName/],
      ['DbPort out of range', { ...BYO_CONTEXT, DbPort: 70000 }, 'DbPort must be an integer from 1 to 65535, got 70000'],
      ['ConnectionArn without ConnectionRepository', { ConnectionArn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/12345678-1234-1234-1234-123456789012' },
        'a connection source needs ConnectionArn and ConnectionRepository; missing: ConnectionRepository'],
      ['RepositoryName together with a connection', {
        RepositoryName: 'x', ConnectionRepository: 'octo/x',
        ConnectionArn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/12345678-1234-1234-1234-123456789012',
      }, 'RepositoryName names a CodeCommit source and conflicts with ConnectionArn; remove one of them'],
      ['a connection ARN of another service', { ConnectionArn: 'arn:aws:iam::111111111111:role/x', ConnectionRepository: 'octo/x' }, /^ConnectionArn must be a CodeStar connection ARN/],
      ['ConnectionRepository without an owner', {
        ConnectionArn: 'arn:aws:codestar-connections:eu-west-1:111111111111:connection/12345678-1234-1234-1234-123456789012', ConnectionRepository: 'load-test',
      }, 'ConnectionRepository must be "owner/repo", got "load-test"'],
      ['no reader', { ReaderCount: 0 }, 'ReaderCount must be an integer from 1 to 15, got 0'],
      ['a reader count in words', { ReaderCount: 'two' }, 'ReaderCount must be a number, got "two"'],
      ['an instance class without a size', { InstanceClass: 'r6g' }, /^InstanceClass must be "serverless" or an instance class such as "r6g.large"/],
      ['ACU bounds with a provisioned class', { InstanceClass: 'r6g.large', ServerlessMaxCapacity: 8 },
        'ServerlessMaxCapacity applies only with InstanceClass=serverless, got InstanceClass=r6g.large; remove one or the other'],
      ['a minimum above the maximum', { ServerlessMinCapacity: 8, ServerlessMaxCapacity: 4 }, 'ServerlessMinCapacity (8) must not exceed ServerlessMaxCapacity (4)'],
      ['auto-pause with an engine version before it', { ServerlessMinCapacity: 0, EngineVersion: '15.6' },
        'ServerlessMinCapacity=0 (auto-pause) needs Aurora PostgreSQL 13.15, 14.12, 15.7, 16.3 or later, got EngineVersion=15.6; raise EngineVersion or set ServerlessMinCapacity to 0.5 or more'],
      ['auto-pause with a major version that has none', { ServerlessMinCapacity: 0, EngineVersion: '12.22' }, /^ServerlessMinCapacity=0 \(auto-pause\) needs Aurora PostgreSQL/],
      ['an ACU that is not a multiple of 0.5', { ServerlessMaxCapacity: 2.25 }, 'ServerlessMaxCapacity must be a multiple of 0.5 from 1 to 256, got 2.25'],
      ['a major version only', { EngineVersion: '16' }, /^EngineVersion must be a full Aurora PostgreSQL version such as "16.13"/],
      ['more NAT gateways than AZs', { NatGateways: 3 }, 'NatGateways must be an integer from 0 to 2, got 3'],
      ['no NAT gateway and no endpoints', { NatGateways: 0, InterfaceEndpoints: false }, /^NatGateways=0 with InterfaceEndpoints=false leaves the worker no way to reach/],
      ['InterfaceEndpoints that is not a boolean', { InterfaceEndpoints: 'yes' }, 'InterfaceEndpoints must be true or false, got "yes"'],
      ['a single worker', { WorkerMaxConcurrency: 1 }, 'WorkerMaxConcurrency must be an integer from 2 to 1000, got 1'],
      ['a reservation that leaves no room for the deploy-time init', { WorkerMaxConcurrency: 20, WorkerReservedConcurrency: 20 },
        'WorkerReservedConcurrency (20) must be at least WorkerMaxConcurrency + 1 = 21: one execution per worker and one for the deploy-time init; lower WorkerMaxConcurrency or raise the reservation'],
      ['a reservation above what an account can reserve', { WorkerReservedConcurrency: 5000 }, 'WorkerReservedConcurrency must be an integer from 1 to 1001, got 5000'],
      ['a batch above 10', { WorkerBatchSize: 11 }, 'WorkerBatchSize must be an integer from 1 to 10, got 11'],
      ['a pool of none', { WorkerPoolMax: 0 }, 'WorkerPoolMax must be an integer from 1 to 100, got 0'],
      ['an AWS/ namespace', { MetricNamespace: 'AWS/Lambda' }, /^MetricNamespace must be a CloudWatch namespace not starting with "AWS\/"/],
      ['an allowed host given as a URL', { AllowedHosts: 'db1.example.com,https://db2.example.com' }, /^AllowedHosts must be a comma-separated list of host or host:port entries, got "https:\/\/db2.example.com"/],
      ['an endpoint with a port', { ...BYO_CONTEXT, ReaderEndpoint: 'db.example.com:6432' }, /^ReaderEndpoint must be a host name \(no scheme, no port\)/],
      ['a bucket name with capitals', { BUCKET: 'My_Bucket' }, /^BUCKET must be an S3 bucket name/],
      ['a scale of zero', { Scale: 0 }, 'Scale must be an integer from 1 to 1000, got 0'],
      ['a scale the deploy-time init cannot load in time', { Scale: 500 },
        'Scale=500 may take longer than the deploy-time init can run (14 min, sized at 3 s per scale unit); set Scale to 260 or less and load a larger scale with pgbench -i -s 500 from a host in the VPC (handlers/README.md)'],
      ['a misspelt key', { Subnet: 'subnet-0aaaaaaaaaaaaaaa1' }, 'unknown context key Subnet; did you mean Subnets?'],
    ];
    for (const [what, context, expected] of cases) {
      it(`rejects ${what}`, () => {
        const message = mistake(context);
        if (typeof expected === 'string') expect(message).to.equal(expected);
        else expect(message).to.match(expected);
      });
    }
  });

  it('makes the synth itself exit 1 with the one-line message, before building anything', function () {
    this.timeout(30_000);
    const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'app', 'main.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ ...BYO_CONTEXT, Subnets: '' }), CDK_OUTDIR: path.join(tmpdir(), 'load-test-config-error') },
    });
    expect(result.status).to.equal(1);
    expect(result.stderr.trim()).to.equal(
      'error: bring-your-own mode needs SecretName, SecurityGroups, Subnets, VpcId, WriterEndpoint and ReaderEndpoint; missing: Subnets',
    );
  });

  it('refuses auto-pause with an engine version that cannot pause at synth, naming the minimum versions', function () {
    this.timeout(30_000);
    const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'app', 'main.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ ServerlessMinCapacity: 0, EngineVersion: '16.2' }), CDK_OUTDIR: path.join(tmpdir(), 'load-test-config-error') },
    });
    expect(result.status).to.equal(1);
    expect(result.stderr.trim()).to.equal(
      'error: ServerlessMinCapacity=0 (auto-pause) needs Aurora PostgreSQL 13.15, 14.12, 15.7, 16.3 or later, got EngineVersion=16.2; raise EngineVersion or set ServerlessMinCapacity to 0.5 or more',
    );
  });
});
