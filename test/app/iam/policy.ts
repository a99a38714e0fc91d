/**
 * Identity-policy evaluation, as IAM documents it ("Policy evaluation logic", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 * a request is allowed when some Allow statement matches its action, resource and conditions and
 * no Deny statement matches. Action and Resource take `*` and `?` wildcards; the condition
 * operators the project uses are modelled, and any other one fails the evaluation (closed), so an
 * unmodelled policy can never pass by accident.
 */
import type { Deployment } from './deployment';

export interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly Resource?: string | string[];
  readonly NotResource?: unknown;
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/** One AWS request, as IAM authorizes it. */
export interface IamRequest {
  /** `service:Action`. */
  readonly action: string;
  /** The resource's ARN, or `*` for actions without resource-level permissions. */
  readonly resource: string;
  /** Condition keys the request carries, e.g. `cloudwatch:namespace`. */
  readonly context: Readonly<Record<string, string>>;
}

/** `*` and `?` wildcards, case-sensitive unless `ignoreCase` (action names are not case-sensitive). */
function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&'))).join('')}$`, ignoreCase ? 'i' : '');
  return re.test(value);
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function conditionHolds(condition: Statement['Condition'], context: IamRequest['context']): boolean {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      const actual = context[key];
      if (actual === undefined) return false;
      const values = list(expected);
      switch (operator) {
        case 'StringEquals': if (!values.includes(actual)) return false; break;
        case 'StringLike':
        case 'ArnLike': if (!values.some((v) => wildcard(v, actual))) return false; break;
        case 'Bool': if (!values.map(String).includes(actual)) return false; break;
        default: return false;
      }
    }
  }
  return true;
}

function matches(s: Statement, r: IamRequest): boolean {
  if (s.NotAction !== undefined || s.NotResource !== undefined) throw new Error('NotAction/NotResource are not modelled');
  return list(s.Action).some((a) => wildcard(a, r.action, true))
    && list(s.Resource).some((p) => wildcard(p, r.resource))
    && conditionHolds(s.Condition, r.context);
}

export function allows(statements: readonly Statement[], r: IamRequest): boolean {
  return statements.some((s) => s.Effect === 'Allow' && matches(s, r)) && !statements.some((s) => s.Effect === 'Deny' && matches(s, r));
}

/**
 * Every statement of the identity policies of a role in `stackName`: its inline policies, the
 * AWS::IAM::Policy resources attached to it, and the customer-managed policies of the template it
 * lists. AWS-managed policies (logging, VPC network interfaces) are left out: nothing the project's
 * code calls may depend on them.
 */
export function roleStatements(d: Deployment, stackName: string, roleId: string): Statement[] {
  const template = d.template(stackName);
  const role = d.resource(stackName, roleId);
  if (role.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is a ${role.Type}, not a role`);
  const resolved = (v: unknown) => d.resolve(v, stackName) as { Statement: Statement[] };
  const out: Statement[] = [];
  for (const p of list(role.Properties?.Policies as Array<{ PolicyDocument: unknown }> | undefined)) out.push(...resolved(p.PolicyDocument).Statement);
  for (const [, r] of Object.entries(template.Resources ?? {})) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const roles = list(r.Properties?.Roles as unknown[] | undefined);
    if (roles.some((x) => (x as { Ref?: string }).Ref === roleId)) out.push(...resolved(r.Properties?.PolicyDocument).Statement);
  }
  for (const arn of list(role.Properties?.ManagedPolicyArns as unknown[] | undefined)) {
    const ref = (arn as { Ref?: string }).Ref;
    if (ref !== undefined) out.push(...managedPolicyStatements(d, stackName, ref));
  }
  return out;
}

/** The statements of an AWS::IAM::ManagedPolicy in `stackName`. */
export function managedPolicyStatements(d: Deployment, stackName: string, policyId: string): Statement[] {
  const policy = d.resource(stackName, policyId);
  if (policy.Type !== 'AWS::IAM::ManagedPolicy') throw new Error(`${policyId} is a ${policy.Type}, not a managed policy`);
  return (d.resolve(policy.Properties?.PolicyDocument, stackName) as { Statement: Statement[] }).Statement;
}

/** The logical id of the role an `Fn::GetAtt [role, Arn]` (or a Ref) names. */
export function roleIdOf(value: unknown): string {
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (getAtt && getAtt[1] === 'Arn') return getAtt[0];
  throw new Error(`not a role reference: ${JSON.stringify(value)}`);
}
