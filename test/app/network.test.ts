import { Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { expect } from 'chai';
import { NetworkStack } from '../../app/network/network-stack';
import { configOf, type Context, newApp, synthStacks, TEST_ENV } from './synth';

/** The network stack alone (no worker to bundle), for configuration variants. */
function networkTemplate(context: Context): Template {
  const app = newApp(context);
  const db = configOf(app).database;
  if (db.mode !== 'create') throw new Error('a create-mode context is needed');
  const stage = new Stage(app, 'LoadTest', { env: TEST_ENV });
  const stack = new NetworkStack(stage, 'Network', { network: { natGateways: db.natGateways, interfaceEndpoints: db.interfaceEndpoints } });
  return Template.fromStack(stack);
}

describe('app/network: the VPC the worker and the cluster share', () => {
  let template: Template;
  let isolated: Template;
  before(() => {
    const network = synthStacks().network;
    if (!network) throw new Error('create mode has a network stack');
    template = network;
    isolated = networkTemplate({ NatGateways: 0 });
  });

  it('spreads public and private subnets over two AZs', () => {
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    template.hasResourceProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true, AvailabilityZone: 'eu-west-1a' });
    template.hasResourceProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false, AvailabilityZone: 'eu-west-1b' });
  });

  it('has one NAT gateway by default', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
  });

  it('has an S3 gateway endpoint', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('\\.s3$')])] }),
    });
  });

  it('relies on the NAT gateway, not interface endpoints, for AWS APIs by default', () => {
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
  });

  it('with NatGateways=0, isolates the private subnets and reaches Secrets Manager, SQS and CloudWatch through interface endpoints', () => {
    isolated.resourceCountIs('AWS::EC2::NatGateway', 0);
    isolated.resourceCountIs('AWS::EC2::InternetGateway', 0);
    const services = Object.values(isolated.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }))
      .map((e) => (e as { Properties: { ServiceName: string } }).Properties.ServiceName.split('.').pop());
    expect(services).to.have.members(['secretsmanager', 'sqs', 'monitoring']);
  });

  it('admits HTTPS to the interface endpoints from the worker\'s security group only', () => {
    isolated.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    isolated.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': ['WorkerSecurityGroup', 'GroupId'] },
    });
    const endpoints = Object.values(isolated.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }));
    expect(new Set(endpoints.map((e) => JSON.stringify((e as { Properties: { SecurityGroupIds: unknown } }).Properties.SecurityGroupIds)))).to.have.length(1);
  });

  it('keeps the address plan of the public subnets without them (NatGateways=0), so the private subnets keep their CIDRs', () => {
    const cidrs = (t: Template) => Object.values(t.findResources('AWS::EC2::Subnet', { Properties: { MapPublicIpOnLaunch: false } }))
      .map((s) => (s as { Properties: { CidrBlock: string } }).Properties.CidrBlock);
    expect(cidrs(isolated)).to.deep.equal(cidrs(template));
    isolated.resourceCountIs('AWS::EC2::Subnet', 2);
  });

  it('adds the interface endpoints next to the NAT gateway with InterfaceEndpoints=true', () => {
    const both = networkTemplate({ InterfaceEndpoints: true });
    both.resourceCountIs('AWS::EC2::NatGateway', 1);
    both.resourceCountIs('AWS::EC2::VPCEndpoint', 4);
  });

  it('lets the worker out on HTTPS and on PostgreSQL inside the VPC only', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('load test worker'),
      SecurityGroupEgress: [
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
        Match.objectLike({ CidrIp: { 'Fn::GetAtt': ['Vpc', 'CidrBlock'] }, FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp' }),
      ],
    });
  });

  it('logs rejected flows', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT', ResourceType: 'VPC' });
  });

  it('pins the logical ids of the VPC and the worker security group', () => {
    expect(Object.keys(template.findResources('AWS::EC2::VPC'))).to.deep.equal(['Vpc']);
    expect(Object.keys(template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('load test worker') } })))
      .to.deep.equal(['WorkerSecurityGroup']);
  });
});
