/**
 * The IAM policies of the deployment against the code that needs them. What each principal may do is worked
 * out here from the sources: every AWS SDK command `src/` sends (`new XxxCommand(`, resolved through its
 * import from `@aws-sdk/client-*`) and every boto3 client call in `jobs-py/coattail_jobs`; a policy must allow
 * exactly those, plus the actions listed below with the reason the code alone does not show. The JSON files
 * of deploy/iam/ must be the template's documents, rendered (`npx vitest run test/deploy/iam.test.ts -u`
 * writes them again after a template change).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bucketLayout } from '../../src/config/layout.js';
import { IAM_FILES, ROOT, allowedActions, list, loadTemplate, readIamFile, renderIam, statements, type Json } from '../helpers/deploy.js';

type Principal = 'ingest' | 'operator' | 'emr-job';

/** Who sends the AWS calls of each source file. `local` calls only ever reach the emulators of `coattail local up`. */
const CALLER_BY_PATH: ReadonlyArray<[prefix: string, caller: Principal | 'local']> = [
  ['src/commands/ingest.ts', 'ingest'],
  ['src/kinesis/writer.ts', 'ingest'],
  ['src/commands/jobs/', 'operator'],
  ['src/commands/ddl.ts', 'operator'],
  ['src/commands/reprocess', 'operator'],
  ['src/bundle/', 'operator'],
  ['src/spark/emr/', 'operator'],
  ['src/athena/', 'operator'],
  ['src/watch/', 'operator'],
  ['src/kinesis/follow.ts', 'operator'],
  // doctor: its AWS checks as the operator; its local ones ask the emulators of coattail local up.
  ['src/doctor/local.ts', 'local'],
  ['src/doctor/', 'operator'],
  // local up / status / peek and the demo: the Kinesis emulator and dynalite, never AWS.
  ['src/local/', 'local'],
  ['src/demo/', 'local'],
  ['src/kinesis/read-stream.ts', 'local'],
];

/** IAM service prefix of each SDK package. */
const SERVICE_OF_PACKAGE: Record<string, string> = {
  kinesis: 'kinesis',
  dynamodb: 'dynamodb',
  s3: 's3',
  athena: 'athena',
  'emr-serverless': 'emr-serverless',
  sts: 'sts',
};

/** Operations IAM does not authorize: anyone signed in may call them (STS API reference, GetCallerIdentity). */
const NEEDS_NO_PERMISSION = new Set(['sts:GetCallerIdentity']);

/** API operations that IAM authorizes under another action's name. */
const ACTION_OF_OPERATION: Record<string, string> = {
  // HEAD needs the permission of GET (S3 user guide, HeadObject).
  's3:HeadObject': 's3:GetObject',
  // HeadBucket needs s3:ListBucket (S3 API reference, HeadBucket).
  's3:HeadBucket': 's3:ListBucket',
};

/** Actions a policy holds that no call in our sources shows, and why. Nothing else may be there. */
const ALLOWANCE: Record<Principal, Record<string, string>> = {
  ingest: {},
  operator: {
    'iam:PassRole': 'StartJobRun hands the execution role to EMR Serverless',
    's3:GetBucketLocation': "Athena writes query results with the caller's credentials",
    's3:ListBucketMultipartUploads': "Athena writes query results with the caller's credentials",
    's3:ListMultipartUploadParts': "Athena writes query results with the caller's credentials",
    's3:AbortMultipartUpload':
      "Athena writes query results with the caller's credentials; a failed multipart upload of the bundle or a virtualenv is aborted (lib-storage's Upload)",
    'glue:CreateDatabase': 'Athena runs CREATE DATABASE IF NOT EXISTS against Glue as the caller (and needs it on `default`)',
    'glue:GetDatabase': 'Athena runs the DDL against Glue as the caller',
    'glue:CreateTable': 'Athena runs CREATE TABLE against Glue as the caller',
    'glue:GetTable': 'Athena runs the DDL against Glue as the caller',
    'glue:UpdateTable': 'Athena runs ALTER TABLE ADD COLUMNS against Glue as the caller',
  },
  'emr-job': {
    'kinesis:DescribeStreamSummary': 'the aws-kinesis connector (GetRecords consumer)',
    'kinesis:ListShards': 'the aws-kinesis connector (GetRecords consumer)',
    'kinesis:GetShardIterator': 'the aws-kinesis connector (GetRecords consumer)',
    'kinesis:GetRecords': 'the aws-kinesis connector (GetRecords consumer)',
    'glue:GetDatabase': 'Iceberg GlueCatalog: CREATE NAMESPACE IF NOT EXISTS; the session catalog reads `default`',
    'glue:GetTable': 'Iceberg GlueCatalog: loading a table',
    'glue:CreateTable': 'Iceberg GlueCatalog: CREATE TABLE IF NOT EXISTS in ensure_tables',
    'glue:UpdateTable': 'Iceberg GlueCatalog: every commit (MERGE INTO, schema change)',
    'glue:DeleteTable': 'schema-evolution-demo drops its own demo table (DROP TABLE ... PURGE) before it starts',
    's3:ListBucket': 'EMRFS lists checkpoint and raw-zone folders',
    's3:GetObject': 'the bundle and venv, checkpoints, Iceberg files',
    's3:PutObject': 'checkpoints, raw zone, Iceberg files, run logs, reprocess reports (pyarrow S3 file system)',
    's3:DeleteObject': 'checkpoint compaction, overwritten dead-letter folders, Iceberg commit clean-up',
    's3:AbortMultipartUpload': 'a failed large upload is aborted, not left behind',
    'logs:DescribeLogGroups': 'EMR Serverless logging to CloudWatch (--log-group)',
    'logs:DescribeLogStreams': 'EMR Serverless logging to CloudWatch (--log-group)',
    'logs:CreateLogStream': 'EMR Serverless logging to CloudWatch (--log-group)',
    'logs:PutLogEvents': 'EMR Serverless logging to CloudWatch (--log-group)',
  },
};

/** Actions that take no resource: `"Resource": "*"` is what AWS requires for them, and nothing else may have it. */
const RESOURCELESS = new Set(['cloudwatch:PutMetricData', 'ecr:GetAuthorizationToken']);

const POLICY_OF: Record<Principal, string> = { ingest: 'ingest-task-role.json', operator: 'operator.json', 'emr-job': 'emr-job-role.json' };

function filesUnder(dir: string, exts: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full, exts));
    else if (exts.some((e) => name.endsWith(e))) out.push(full);
  }
  return out.sort();
}

interface CallSite {
  file: string;
  action: string;
}

/** Every `new XxxCommand(` of the AWS SDK in src/, as the IAM action it needs. */
function sdkCallSites(): CallSite[] {
  const sites: CallSite[] = [];
  for (const full of filesUnder(path.join(ROOT, 'src'), ['.ts', '.tsx'])) {
    const text = readFileSync(full, 'utf8');
    const file = path.relative(ROOT, full).split(path.sep).join('/');
    const packageOf = new Map<string, string>();
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g)) {
      for (const raw of m[1]!.split(',')) {
        const name = raw.trim();
        if (name.length > 0 && !name.startsWith('type ')) packageOf.set(name.split(/\s+as\s+/)[0]!, m[2]!);
      }
    }
    for (const m of text.matchAll(/new\s+([A-Z][A-Za-z0-9]*Command)\s*\(/g)) {
      const pkg = packageOf.get(m[1]!);
      if (!pkg) throw new Error(`${file}: new ${m[1]}( is not imported from an @aws-sdk client package`);
      const service = SERVICE_OF_PACKAGE[pkg];
      if (!service) throw new Error(`${file}: @aws-sdk/client-${pkg} has no IAM service prefix in this test: add it`);
      const operation = `${service}:${m[1]!.replace(/Command$/, '')}`;
      if (NEEDS_NO_PERMISSION.has(operation)) continue;
      sites.push({ file, action: ACTION_OF_OPERATION[operation] ?? operation });
    }
  }
  return sites;
}

function callerOf(file: string): Principal | 'local' | undefined {
  return CALLER_BY_PATH.find(([prefix]) => file.startsWith(prefix))?.[1];
}

const pascal = (snake: string): string =>
  snake
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

/** Every boto3 client call of the jobs, as the IAM action it needs (the service from the file's client). */
function boto3CallSites(): CallSite[] {
  const sites: CallSite[] = [];
  for (const full of filesUnder(path.join(ROOT, 'jobs-py', 'coattail_jobs'), ['.py'])) {
    const text = readFileSync(full, 'utf8');
    const file = path.relative(ROOT, full).split(path.sep).join('/');
    const calls = [...text.matchAll(/\b(?:self\.)?_?client\.([a-z][a-z0-9_]*)\(/g)].map((m) => m[1]!);
    if (calls.length === 0) continue;
    const services = new Set([
      ...[...text.matchAll(/boto3\.client\(\s*"([a-z0-9-]+)"/g)].map((m) => m[1]!),
      ...[...text.matchAll(/mypy_boto3_([a-z0-9_]+)\.client import/g)].map((m) => m[1]!),
    ]);
    if (services.size !== 1)
      throw new Error(`${file}: client calls with ${services.size} boto3 services in the file; cannot tell which each is`);
    const [service] = [...services];
    for (const call of calls) sites.push({ file, action: `${service}:${pascal(call)}` });
  }
  return sites;
}

function expectedActions(principal: Principal): Set<string> {
  if (principal === 'emr-job') return new Set(boto3CallSites().map((s) => s.action));
  return new Set(
    sdkCallSites()
      .filter((s) => callerOf(s.file) === principal)
      .map((s) => s.action),
  );
}

const template = loadTemplate();

describe("deploy/iam/*.json are the template's IAM documents", () => {
  it.each(IAM_FILES.map((f) => [f.file, f] as const))('%s', async (_name, entry) => {
    const resource = template.Resources[entry.resource];
    expect(resource, entry.resource).toBeDefined();
    const rendered = renderIam(entry.pick(resource!.Properties), entry.resource);
    await expect(`${JSON.stringify(rendered, null, 2)}\n`).toMatchFileSnapshot(path.join(ROOT, 'deploy', 'iam', entry.file));
  });

  it('deploy/iam holds nothing else', () => {
    const files = readdirSync(path.join(ROOT, 'deploy', 'iam'))
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual(IAM_FILES.map((f) => f.file).sort());
  });
});

describe('every AWS call of the code is allowed to the principal that makes it, and nothing more', () => {
  it('every SDK call site in src/ belongs to a known caller', () => {
    const sites = sdkCallSites();
    // The scan must see the calls it is meant to check (a broken pattern would pass everything).
    expect(sites.length).toBeGreaterThan(10);
    const unknown = sites.filter((s) => callerOf(s.file) === undefined).map((s) => `${s.file} ${s.action}`);
    expect(unknown, 'add the file to CALLER_BY_PATH (and its action to the right policy)').toEqual([]);
  });

  it("the jobs' boto3 calls are found", () => {
    expect(boto3CallSites().length).toBeGreaterThan(0);
  });

  it.each(['ingest', 'operator', 'emr-job'] as const)(
    "%s: the policy allows exactly the code's actions plus the listed allowance",
    (principal) => {
      const expected = expectedActions(principal);
      const allowance = ALLOWANCE[principal];
      const policy = allowedActions(readIamFile(POLICY_OF[principal]));
      const missing = [...expected].filter((a) => !policy.has(a)).sort();
      expect(missing, `called by the code, not allowed to ${principal}`).toEqual([]);
      const unexplained = [...policy].filter((a) => !expected.has(a) && !(a in allowance)).sort();
      expect(unexplained, `allowed to ${principal} without a call or a reason`).toEqual([]);
      const stale = Object.keys(allowance)
        .filter((a) => !policy.has(a) || expected.has(a))
        .sort();
      expect(stale, 'allowance entries no longer needed').toEqual([]);
    },
  );

  it('ingest may write to the stream and nothing else', () => {
    // Independently of the scan: the two calls the ingest path makes (checkStream, the writer's PutRecords).
    expect([...allowedActions(readIamFile('ingest-task-role.json'))].sort()).toEqual([
      'kinesis:DescribeStreamSummary',
      'kinesis:PutRecords',
    ]);
  });
});

describe('resources are scoped', () => {
  const documents = IAM_FILES.filter((f) => !f.file.endsWith('-trust.json')).map((f) => f.file);

  it.each(documents)('%s: "*" only for actions that take no resource, PutMetricData only in its namespace', (file) => {
    for (const s of statements(readIamFile(file))) {
      const resources = list(s.Resource);
      if (!resources.includes('*')) continue;
      expect(resources, s.Sid).toEqual(['*']);
      for (const a of list(s.Action)) expect(RESOURCELESS.has(a), `${s.Sid}: ${a} takes a resource`).toBe(true);
      if (list(s.Action).includes('cloudwatch:PutMetricData')) {
        const configPy = readFileSync(path.join(ROOT, 'jobs-py', 'coattail_jobs', 'config.py'), 'utf8');
        const namespace = /cloudwatch_namespace:\s*str\s*=\s*"([^"]+)"/.exec(configPy)?.[1];
        expect(namespace).toBeDefined();
        expect(s.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': namespace } });
      }
    }
  });

  it.each(documents)('%s: every ARN names this account and region (or is global by nature)', (file) => {
    for (const s of statements(readIamFile(file))) {
      for (const r of list(s.Resource)) {
        if (r === '*') continue;
        if (r.startsWith('arn:${Partition}:s3:::') || r === '${EmrJobRoleArn}') continue; // S3 ARNs carry neither
        expect(r, s.Sid).toMatch(/^arn:\$\{Partition\}:[a-z0-9-]+:\$\{Region\}:\$\{AccountId\}:/);
      }
    }
  });

  it('S3 object access stays within the locations the code uses', () => {
    // The bucket layout of src/config/layout.ts and the warehouse of jobs-py/emr-spark-conf.json, with the placeholder bucket.
    const layout = bucketLayout('${Bucket}');
    const conf = JSON.parse(readFileSync(path.join(ROOT, 'jobs-py', 'emr-spark-conf.json'), 'utf8')) as Record<string, string>;
    const warehouse = conf['spark.sql.catalog.coattail.warehouse']!.replace('${bucket}', '${Bucket}');
    const folder = (uri: string) => `${uri.replace(/^s3:\/\//, 'arn:${Partition}:s3:::').replace(/\/$/, '')}/*`;
    const allowed = new Set([
      folder(layout.checkpointRoot),
      folder(layout.rawRoot),
      folder(layout.logUri),
      folder(layout.athenaOutput),
      folder(layout.reprocessRoot),
      folder(layout.uri(layout.bundleKey('x', 'y').split('/').slice(0, 2).join('/'))),
      folder(layout.uri(layout.venvKey('x', 'y').split('/').slice(0, 2).join('/'))),
      `arn:\${Partition}:s3:::\${Bucket}/${layout.ledgerKey}`,
      folder(warehouse),
      'arn:${Partition}:s3:::${Bucket}',
    ]);
    for (const file of ['operator.json', 'emr-job-role.json']) {
      for (const s of statements(readIamFile(file))) {
        for (const r of list(s.Resource).filter((x) => x.includes(':s3:::'))) expect(allowed.has(r), `${file} ${s.Sid}: ${r}`).toBe(true);
      }
    }
  });

  it('trust policies: one service, confused-deputy conditions on this account', () => {
    const expected: Record<string, string> = {
      'emr-job-trust.json': 'emr-serverless.amazonaws.com',
      'ingest-task-trust.json': 'ecs-tasks.amazonaws.com',
      'ingest-execution-trust.json': 'ecs-tasks.amazonaws.com',
    };
    for (const [file, service] of Object.entries(expected)) {
      const [s, ...rest] = statements(readIamFile(file)) as unknown as Array<{
        Principal: Json;
        Action: string;
        Condition: Record<string, Record<string, string>>;
      }>;
      expect(rest, file).toEqual([]);
      expect(s!.Principal).toEqual({ Service: service });
      expect(s!.Action).toBe('sts:AssumeRole');
      expect(s!.Condition.StringEquals).toEqual({ 'aws:SourceAccount': '${AccountId}' });
      expect(s!.Condition.ArnLike!['aws:SourceArn']).toMatch(/^arn:\$\{Partition\}:[a-z-]+:\$\{Region\}:\$\{AccountId\}:/);
    }
  });

  it("the job role may drop the schema-evolution demo's table and no other", () => {
    const demoTable = /DEMO_TABLE = "([a-z_]+)"/.exec(
      readFileSync(path.join(ROOT, 'jobs-py', 'coattail_jobs', 'batch', 'schema_evolution.py'), 'utf8'),
    )?.[1];
    expect(demoTable).toBe('schema_evolution_demo');
    const drops = statements(readIamFile('emr-job-role.json')).filter((s) => list(s.Action).includes('glue:DeleteTable'));
    expect(drops).toHaveLength(1);
    expect(list(drops[0]!.Action)).toEqual(['glue:DeleteTable']);
    const tables = list(drops[0]!.Resource).filter((r) => r.includes(':table/'));
    expect(tables).toEqual([`arn:\${Partition}:glue:\${Region}:\${AccountId}:table/crypto_pulse/${demoTable}`]);
  });

  it('the operator passes only the job role, only to EMR Serverless', () => {
    const pass = statements(readIamFile('operator.json')).filter((s) => list(s.Action).includes('iam:PassRole'));
    expect(pass).toHaveLength(1);
    expect(list(pass[0]!.Action)).toEqual(['iam:PassRole']);
    expect(pass[0]!.Resource).toBe('${EmrJobRoleArn}');
    expect(pass[0]!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'emr-serverless.amazonaws.com' } });
  });
});
