/**
 * A deployment imagined from synthesized templates: every resource gets the physical name and ARN
 * CloudFormation would give it (in the shape CloudFormation documents, with a fixed stand-in for
 * the random part), so that the intrinsics in a template (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
 * Fn::GetStackOutput, pseudo parameters) resolve to concrete strings. Policies, environment
 * variables and outputs then compare as the deployed ones would.
 */

export interface TemplateJson {
  readonly Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}

export interface Environment {
  readonly account: string;
  readonly region: string;
}

/** What CloudFormation appends to generated names; a constant here, random in AWS. */
const RANDOM = 'A1B2C3D4E5F6';
/** Secrets Manager appends six random characters to every secret's ARN. */
export const SECRET_SUFFIX = 'AbCdEf';

export class Deployment {
  private readonly stacks = new Map<string, TemplateJson>();

  constructor(readonly env: Environment) {}

  /** Adds a stack by its CloudFormation name. */
  add(stackName: string, template: TemplateJson): this {
    this.stacks.set(stackName, template);
    return this;
  }

  template(stackName: string): TemplateJson {
    const t = this.stacks.get(stackName);
    if (!t) throw new Error(`no stack ${stackName} in this deployment`);
    return t;
  }

  /** The stack's ARN, as AWS::StackId gives it. */
  stackId(stackName: string): string {
    return `arn:aws:cloudformation:${this.env.region}:${this.env.account}:stack/${stackName}/00000000-1111-2222-3333-${stackName.length.toString().padStart(12, '0')}`;
  }

  /** The value of an output, resolved. */
  output(stackName: string, outputName: string): string {
    const output = this.template(stackName).Outputs?.[outputName];
    if (!output) throw new Error(`stack ${stackName} has no output ${outputName}`);
    return this.resolveString(output.Value, stackName);
  }

  /** Every output of a stack, resolved, as DescribeStacks returns them. */
  outputs(stackName: string): Array<{ OutputKey: string; OutputValue: string }> {
    return Object.keys(this.template(stackName).Outputs ?? {}).map((key) => ({ OutputKey: key, OutputValue: this.output(stackName, key) }));
  }

  resource(stackName: string, logicalId: string): { Type: string; Properties?: Record<string, unknown> } {
    const r = this.template(stackName).Resources?.[logicalId];
    if (!r) throw new Error(`stack ${stackName} has no resource ${logicalId}`);
    return r;
  }

  /** A template value with every intrinsic resolved. */
  resolve(value: unknown, stackName: string): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, stackName));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0] as [string, unknown];
      switch (key) {
        case 'Ref': return this.ref(arg as string, stackName);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg as [string, string] : (arg as string).split(/\.(.*)/) as [string, string];
          return this.getAtt(id, attr, stackName);
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          return (this.resolve(parts, stackName) as unknown[]).map(String).join(sep);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number, unknown];
          return (this.resolve(list, stackName) as unknown[])[Number(index)];
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, unknown];
          return this.resolveString(text, stackName).split(sep);
        }
        case 'Fn::Sub': return this.sub(arg, stackName);
        case 'Fn::GetAZs': return [`${this.env.region}a`, `${this.env.region}b`, `${this.env.region}c`];
        case 'Fn::GetStackOutput': {
          const { StackName, OutputName } = arg as { StackName: unknown; OutputName: string };
          return this.output(this.resolveString(StackName, stackName), OutputName);
        }
        case 'Fn::ImportValue': throw new Error('Fn::ImportValue is not modelled: the stacks use weak references (Fn::GetStackOutput)');
        default: if (key.startsWith('Fn::')) throw new Error(`${key} is not modelled`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v, stackName)]));
  }

  resolveString(value: unknown, stackName: string): string {
    const resolved = this.resolve(value, stackName);
    if (typeof resolved !== 'string' && typeof resolved !== 'number') throw new Error(`expected a string, got ${JSON.stringify(resolved)}`);
    return String(resolved);
  }

  /** The physical name CloudFormation generates: stack name, logical id, a random suffix. */
  generatedName(stackName: string, logicalId: string): string {
    return `${stackName}-${logicalId}-${RANDOM}`;
  }

  private pseudo(name: string, stackName: string): string | undefined {
    switch (name) {
      case 'AWS::Region': return this.env.region;
      case 'AWS::AccountId': return this.env.account;
      case 'AWS::Partition': return 'aws';
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::StackName': return stackName;
      case 'AWS::StackId': return this.stackId(stackName);
      default: return undefined;
    }
  }

  private ref(id: string, stackName: string): unknown {
    const pseudo = this.pseudo(id, stackName);
    if (pseudo !== undefined) return pseudo;
    const r = this.resource(stackName, id);
    const { region, account } = this.env;
    const name = this.generatedName(stackName, id);
    switch (r.Type) {
      case 'AWS::SQS::Queue': return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
      case 'AWS::SecretsManager::Secret': return `arn:aws:secretsmanager:${region}:${account}:secret:${id}${RANDOM}-${SECRET_SUFFIX}`;
      // Ref of an attachment is the ARN of the secret it attaches.
      case 'AWS::SecretsManager::SecretTargetAttachment': return this.resolve(r.Properties?.SecretId, stackName);
      case 'AWS::RDS::DBCluster':
      case 'AWS::RDS::DBInstance': return name.toLowerCase();
      case 'AWS::IAM::ManagedPolicy': return `arn:aws:iam::${account}:policy/${name}`;
      default: return name;
    }
  }

  private getAtt(id: string, attr: string, stackName: string): unknown {
    const r = this.resource(stackName, id);
    const { region, account } = this.env;
    const name = this.generatedName(stackName, id);
    const key = `${r.Type}.${attr}`;
    switch (key) {
      case 'AWS::SQS::Queue.Arn': return `arn:aws:sqs:${region}:${account}:${name}`;
      case 'AWS::SQS::Queue.QueueName': return name;
      case 'AWS::SQS::Queue.QueueUrl': return this.ref(id, stackName);
      case 'AWS::RDS::DBCluster.Endpoint.Address': return `${name.toLowerCase()}.cluster-abcdefghijkl.${region}.rds.amazonaws.com`;
      case 'AWS::RDS::DBCluster.ReadEndpoint.Address': return `${name.toLowerCase()}.cluster-ro-abcdefghijkl.${region}.rds.amazonaws.com`;
      case 'AWS::RDS::DBInstance.Endpoint.Address': return `${name.toLowerCase()}.abcdefghijkl.${region}.rds.amazonaws.com`;
      case 'AWS::IAM::Role.Arn': return `arn:aws:iam::${account}:role/${name}`;
      case 'AWS::Lambda::Function.Arn': return `arn:aws:lambda:${region}:${account}:function:${name}`;
      case 'AWS::EC2::SecurityGroup.GroupId': return `sg-${id.toLowerCase().slice(0, 17)}`;
      case 'AWS::EC2::VPC.CidrBlock': return this.resolve(r.Properties?.CidrBlock, stackName);
      case 'AWS::Logs::LogGroup.Arn': return `arn:aws:logs:${region}:${account}:log-group:${name}:*`;
      case 'AWS::S3::Bucket.Arn': return `arn:aws:s3:::${name.toLowerCase()}`;
      case 'AWS::CodeBuild::Project.Arn': return `arn:aws:codebuild:${region}:${account}:project/${name}`;
      case 'AWS::KMS::Key.Arn': return `arn:aws:kms:${region}:${account}:key/${id}`;
      default: throw new Error(`Fn::GetAtt ${key} is not modelled`);
    }
  }

  private sub(arg: unknown, stackName: string): string {
    const [text, vars] = Array.isArray(arg) ? arg as [string, Record<string, unknown>] : [arg as string, {}];
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
      if (name in vars) return this.resolveString(vars[name], stackName);
      const pseudo = this.pseudo(name, stackName);
      if (pseudo !== undefined) return pseudo;
      const [id, attr] = name.split(/\.(.*)/) as [string, string | undefined];
      return String(attr ? this.getAtt(id, attr, stackName) : this.ref(id, stackName));
    });
  }
}
