/**
 * Reading deploy/cloudformation/coattail.yaml for the deploy tests: the YAML with CloudFormation's short
 * intrinsic tags (`!Sub`, `!Ref`, ...) turned into their long form, and the IAM documents it holds rendered
 * with placeholders (`${AccountId}`, `${Bucket}`, ...) the way deploy/iam/*.json carries them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from './paths.js';

export const ROOT = REPO_ROOT;
export const TEMPLATE_FILE = path.join(ROOT, 'deploy', 'cloudformation', 'coattail.yaml');

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Template {
  Parameters: Record<string, JsonObject>;
  Resources: Record<string, { Type: string; Properties: JsonObject; Condition?: string }>;
  Outputs: Record<string, JsonObject>;
}

export function loadTemplate(file: string = TEMPLATE_FILE): Template {
  const doc = YAML.parseDocument(readFileSync(file, 'utf8'));
  YAML.visit(doc, {
    Node(_key, node) {
      if (!YAML.isNode(node) || typeof node.tag !== 'string' || !node.tag.startsWith('!')) return undefined;
      const name = node.tag.slice(1);
      node.tag = undefined;
      const wrapped = new YAML.YAMLMap<string, YAML.Node>();
      wrapped.set(name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`, node);
      return wrapped;
    },
  });
  if (doc.errors.length > 0) throw new Error(`cannot parse ${file}: ${doc.errors[0]!.message}`);
  // The short tags are unknown to a YAML parser by design; anything else it warns about is a real problem.
  const other = doc.warnings.filter((w) => !w.message.startsWith('Unresolved tag'));
  if (other.length > 0) throw new Error(`${file}: ${other[0]!.message}`);
  return doc.toJS() as Template;
}

const PSEUDO: Record<string, string> = { 'AWS::Partition': 'Partition', 'AWS::Region': 'Region', 'AWS::AccountId': 'AccountId' };

function subToPlaceholders(text: string): string {
  return text.replace(/\$\{(AWS::[A-Za-z]+)\}/g, (whole, name: string) => {
    const short = PSEUDO[name];
    if (!short) throw new Error(`pseudo parameter ${name} has no placeholder in deploy/iam`);
    return `\${${short}}`;
  });
}

/**
 * An IAM document of the template as deploy/iam/*.json holds it: every `Fn::Sub` becomes its string with
 * `${AWS::AccountId}` → `${AccountId}` (and Region, Partition); its variables keep their names. Any other
 * intrinsic function in a policy is refused, so every policy stays renderable without AWS.
 */
export function renderIam(value: Json, where = 'policy'): Json {
  if (Array.isArray(value)) return value.map((v, i) => renderIam(v, `${where}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) {
    const sub = value['Fn::Sub'];
    if (typeof sub === 'string') return subToPlaceholders(sub);
    if (Array.isArray(sub) && typeof sub[0] === 'string') return subToPlaceholders(sub[0]);
    throw new Error(`${where}: ${keys[0]} cannot be rendered; write it as !Sub`);
  }
  return Object.fromEntries(keys.map((k) => [k, renderIam(value[k]!, `${where}.${k}`)]));
}

/** Where each file of deploy/iam/ comes from in the template. */
export const IAM_FILES: ReadonlyArray<{ file: string; resource: string; pick: (props: JsonObject) => Json }> = [
  { file: 'emr-job-role.json', resource: 'EmrJobRole', pick: (p) => firstPolicy(p) },
  { file: 'emr-job-trust.json', resource: 'EmrJobRole', pick: (p) => p.AssumeRolePolicyDocument! },
  { file: 'operator.json', resource: 'OperatorPolicy', pick: (p) => p.PolicyDocument! },
  { file: 'ingest-task-role.json', resource: 'IngestTaskRole', pick: (p) => firstPolicy(p) },
  { file: 'ingest-task-trust.json', resource: 'IngestTaskRole', pick: (p) => p.AssumeRolePolicyDocument! },
  { file: 'ingest-execution-role.json', resource: 'IngestExecutionRole', pick: (p) => firstPolicy(p) },
  { file: 'ingest-execution-trust.json', resource: 'IngestExecutionRole', pick: (p) => p.AssumeRolePolicyDocument! },
];

function firstPolicy(props: JsonObject): Json {
  const policies = props.Policies as JsonObject[];
  if (policies.length !== 1) throw new Error('each role carries exactly one inline policy');
  return policies[0]!.PolicyDocument!;
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export function statements(doc: Json): Statement[] {
  return (doc as unknown as { Statement: Statement[] }).Statement;
}

export const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

/** Every action the document allows, as `service:Action`. */
export function allowedActions(doc: Json): Set<string> {
  return new Set(
    statements(doc)
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => list(s.Action)),
  );
}

export function readIamFile(file: string): Json {
  return JSON.parse(readFileSync(path.join(ROOT, 'deploy', 'iam', file), 'utf8')) as Json;
}
