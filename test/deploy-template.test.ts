/**
 * deploy/cloudformation/coattail.yaml against the code: the names, the alert table's layout, the bucket's
 * locations, the Glue database, the metric namespace and the ingest task's stop budget all come from the
 * sources here (the code's constants, the command tree's defaults, the DDL, the jobs' config), never from
 * the template itself. cfn-lint checks the template's CloudFormation (make lint-deploy); this checks that it
 * describes what the code expects.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli.js';
import { DEFAULT_ALERTS_TABLE, DEFAULT_STREAM } from '../src/commands/jobs-settings.js';
import { bucketLayout } from '../src/config/layout.js';
import { STREAMING_JOBS } from '../src/emr/jobs.js';
import { ALERTS_BY_TYPE_TIME_INDEX, ALERTS_TABLE, alertsTableDefinition } from '../src/local/resources.js';
import { ROOT, loadTemplate, type Json, type JsonObject } from './deploy-support.js';

const template = loadTemplate();
const resource = (name: string): JsonObject => {
  const r = template.Resources[name];
  if (!r) throw new Error(`the template has no resource ${name}`);
  return r.Properties;
};
const paramDefault = (name: string): Json | undefined => template.Parameters[name]?.Default;

function command(...names: string[]): Command {
  let cmd: Command = buildProgram();
  for (const n of names) {
    const next = cmd.commands.find((c) => c.name() === n);
    if (!next) throw new Error(`no command ${names.join(' ')}`);
    cmd = next;
  }
  return cmd;
}

function optionDefault(cmd: Command, flag: string): unknown {
  const opt = cmd.options.find((o) => o.long === flag);
  if (!opt) throw new Error(`${cmd.name()} has no ${flag}`);
  return opt.defaultValue;
}

const readRepo = (...parts: string[]) => readFileSync(path.join(ROOT, ...parts), 'utf8');

/** The one database the DDL files create their tables in (``CREATE TABLE IF NOT EXISTS `db`.`table` ``). */
function ddlDatabase(): string {
  const dbs = new Set<string>();
  for (const f of readdirSync(path.join(ROOT, 'ddl')).filter((n) => n.endsWith('.sql'))) {
    for (const m of readRepo('ddl', f).matchAll(/CREATE TABLE IF NOT EXISTS `?([a-z_][a-z0-9_]*)`?\./g)) dbs.add(m[1]!);
  }
  expect(dbs.size).toBe(1);
  return [...dbs][0]!;
}

/** Sorted copies, so the comparison does not depend on the order either side lists things in. */
const byName = <T extends { AttributeName?: string; IndexName?: string }>(xs: readonly T[]): T[] =>
  [...xs].sort((a, b) => String(a.AttributeName ?? a.IndexName).localeCompare(String(b.AttributeName ?? b.IndexName)));

describe('names are the code\'s defaults', () => {
  it('the stream', () => {
    expect(paramDefault('StreamName')).toBe(DEFAULT_STREAM);
    expect(paramDefault('StreamName')).toBe(optionDefault(command('ingest'), '--stream'));
    expect(resource('TradeStream').Name).toEqual({ Ref: 'StreamName' });
  });

  it('the alert table', () => {
    expect(paramDefault('AlertsTableName')).toBe(ALERTS_TABLE);
    expect(paramDefault('AlertsTableName')).toBe(DEFAULT_ALERTS_TABLE);
    expect(paramDefault('AlertsTableName')).toBe(optionDefault(command('watch'), '--table'));
    expect(resource('AlertsTable').TableName).toEqual({ Ref: 'AlertsTableName' });
  });

  it('the Glue database is the DDL\'s, located where the DDL and the jobs\' catalog put its tables', () => {
    const db = ddlDatabase();
    const input = resource('GlueDatabase').DatabaseInput as JsonObject;
    expect(input.Name).toBe(db);
    // ddl/*.sql: LOCATION 's3://${bucket}/warehouse/<db>/<table>/'; emr-spark-conf.json: warehouse s3://${bucket}/warehouse.
    const conf = JSON.parse(readRepo('jobs-py', 'emr-spark-conf.json')) as Record<string, string>;
    const warehouse = conf['spark.sql.catalog.coattail.warehouse']!;
    expect(readRepo('ddl', 'raw_trades.sql')).toContain(`LOCATION '${warehouse}/${db}/raw_trades/'`);
    expect(input.LocationUri).toEqual({ 'Fn::Sub': warehouse.replace('${bucket}', '${DataBucket}') + `/${db}` });
  });

  it('the IAM policies name that database', () => {
    const db = ddlDatabase();
    const text = readRepo('deploy', 'cloudformation', 'coattail.yaml');
    expect(text).toContain(`:database/${db}'`);
    expect(text).toContain(`:table/${db}/*'`);
    expect(text.match(/:database\/([a-z_]+)'/g)!.every((m) => m === `:database/${db}'` || m === ":database/default'")).toBe(true);
  });

  it('the index watch queries is the one the operator may query', () => {
    const text = readRepo('deploy', 'cloudformation', 'coattail.yaml');
    expect(text).toContain(`table/\${AlertsTableName}/index/${ALERTS_BY_TYPE_TIME_INDEX}'`);
  });
});

describe('the alert table', () => {
  const table = resource('AlertsTable');
  const code = alertsTableDefinition();

  it('has the layout of `coattail local up` (key alert_id, index by_type_time)', () => {
    expect(table.BillingMode).toBe(code.BillingMode);
    expect(byName(table.AttributeDefinitions as Array<{ AttributeName: string }>)).toEqual(byName(code.AttributeDefinitions!));
    expect(table.KeySchema).toEqual(code.KeySchema);
    expect(table.GlobalSecondaryIndexes).toEqual(code.GlobalSecondaryIndexes);
  });

  it('keeps its data: point-in-time recovery, deletion protection, retained with the stack', () => {
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.DeletionProtectionEnabled).toBe(true);
    expect(template.Resources.AlertsTable!).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('the bucket', () => {
  const layout = bucketLayout('B');
  const keyOf = (uri: string) => uri.replace('s3://B/', '');
  const bucket = resource('DataBucket');
  const rules = ((bucket.LifecycleConfiguration as JsonObject).Rules as JsonObject[]).filter((r) => typeof r.Prefix === 'string');

  it('expires run logs, dead letters and Athena results under the prefixes the code writes them to', () => {
    // quality.py's dlq_dir: {raw_root}/dlq/{reason}/dt={day}.
    expect(readRepo('jobs-py', 'coattail_jobs', 'quality.py')).toContain('return f"{raw_root.rstrip(\'/\')}/dlq/{reason}/dt={day}"');
    expect(rules.map((r) => r.Prefix).sort()).toEqual([keyOf(layout.logUri), keyOf(layout.athenaOutput), `${keyOf(layout.rawRoot)}/dlq/`].sort());
  });

  it('is private, encrypted, TLS only', () => {
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    const deny = ((resource('DataBucketPolicy').PolicyDocument as JsonObject).Statement as JsonObject[])[0]!;
    expect(deny).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });

  it('the Athena work group writes results where ddl apply expects them', () => {
    const config = resource('AthenaWorkGroup').WorkGroupConfiguration as JsonObject;
    expect((config.ResultConfiguration as JsonObject).OutputLocation).toEqual({ 'Fn::Sub': layout.athenaOutput.replace('s3://B/', 's3://${DataBucket}/') });
  });
});

describe('metrics and alarms', () => {
  it('the quality alarm watches the namespace, metric and job dimension the jobs publish', () => {
    const configPy = readRepo('jobs-py', 'coattail_jobs', 'config.py');
    const namespace = /cloudwatch_namespace:\s*str\s*=\s*"([^"]+)"/.exec(configPy)?.[1];
    const qualityPy = readRepo('jobs-py', 'coattail_jobs', 'quality.py');
    expect(qualityPy).toContain('"QualityScore":');
    expect(qualityPy).toContain('dimensions={"Job": config.job}');
    const alarm = resource('QualityScoreAlarm');
    expect(alarm.Namespace).toBe(namespace);
    expect(alarm.MetricName).toBe('QualityScore');
    expect(alarm.Dimensions).toEqual([{ Name: 'Job', Value: 'raw-archiver' }]);
    expect(STREAMING_JOBS).toContain('raw-archiver');
  });

  it('the undelivered-trades metric matches the line ingest logs (JSON logs, a count field)', () => {
    const ingestTs = readRepo('src', 'commands', 'ingest.ts');
    const m = /ctx\.logger\.error\('([^']+)', \{ count: records\.length/.exec(ingestTs);
    expect(m).not.toBeNull();
    const filter = resource('IngestUndeliveredMetric');
    expect(filter.FilterPattern).toBe(`{ $.msg = "${m![1]}" }`);
    expect((filter.MetricTransformations as JsonObject[])[0]!.MetricValue).toBe('$.count');
    const env = containerEnv();
    expect(env.COATTAIL_LOG_FORMAT).toBe('json'); // what src/core/context.ts reads to log JSON
    expect(readRepo('src', 'core', 'context.ts')).toContain("env.COATTAIL_LOG_FORMAT === 'json'");
  });
});

function container(): JsonObject {
  const defs = resource('IngestTaskDefinition').ContainerDefinitions as JsonObject[];
  expect(defs).toHaveLength(1);
  return defs[0]!;
}

function containerEnv(): Record<string, Json> {
  return Object.fromEntries((container().Environment as JsonObject[]).map((e) => [e.Name as string, e.Value!]));
}

describe('the ingest task', () => {
  it('ECS waits longer than ingest takes to flush before it SIGKILLs', () => {
    const defaultTimeout = Number(optionDefault(command('ingest'), '--shutdown-timeout'));
    expect(defaultTimeout).toBeGreaterThan(0);
    const configured = Number(containerEnv().COATTAIL_SHUTDOWN_TIMEOUT);
    expect(configured).toBe(defaultTimeout);
    // After the flush, runCommand lets stdout/stderr drain for up to 2 s before exiting.
    expect(readRepo('src', 'core', 'run.ts')).toContain('async function flushStreams(timeoutMs = 2_000)');
    const stop = container().StopTimeout as number;
    expect(stop).toBeGreaterThanOrEqual(configured + 2 + 5);
    expect(stop).toBeLessThanOrEqual(120); // Fargate's most
  });

  it('every environment variable it sets is one the ingest command reads', () => {
    const ingest = command('ingest');
    const read = new Set(ingest.options.map((o) => (o as unknown as { envVar?: string }).envVar).filter(Boolean));
    read.add('COATTAIL_LOG_FORMAT'); // src/core/context.ts
    for (const name of Object.keys(containerEnv())) expect(read.has(name), name).toBe(true);
  });

  it('runs the image\'s ingest command, as the task role, with logs to its log group', () => {
    expect((container().Command as string[])[0]).toBe('ingest');
    const task = resource('IngestTaskDefinition');
    expect(task.TaskRoleArn).toEqual({ 'Fn::GetAtt': 'IngestTaskRole.Arn' });
    expect(task.RequiresCompatibilities).toEqual(['FARGATE']);
    expect(((container().LogConfiguration as JsonObject).Options as JsonObject)['awslogs-group']).toEqual({ Ref: 'IngestLogGroup' });
  });

  it('the security group lets out only what the exchanges and AWS need, and nothing in', () => {
    const sg = resource('IngestSecurityGroup');
    expect(sg.SecurityGroupIngress).toBeUndefined();
    const ports = (sg.SecurityGroupEgress as JsonObject[]).map((r) => r.FromPort).sort();
    // 443: Coinbase and AWS; 9443: the default Binance URL of the ingest command.
    expect(new URL(String(optionDefault(command('ingest'), '--binance-url'))).port).toBe('9443');
    expect(ports).toEqual([443, 9443]);
  });
});

describe('EMR Serverless', () => {
  it('a Spark 7.x application that starts and stops by itself', () => {
    const app = resource('EmrApplication');
    expect(app.Type).toBe('SPARK');
    const release = String(paramDefault('EmrReleaseLabel'));
    const minor = Number(/^emr-7\.(\d+)\.\d+$/.exec(release)?.[1]);
    expect(minor).toBeGreaterThanOrEqual(1); // the aws-kinesis connector ships with 7.1+
    expect(app.AutoStartConfiguration).toEqual({ Enabled: true });
    expect(app.AutoStopConfiguration).toMatchObject({ Enabled: true });
  });

  it('the outputs\' ready-made commands use only flags the commands have', () => {
    for (const [output, cmd] of [['SaveJobsConfig', command('jobs', 'submit')], ['SaveDdlConfig', command('ddl', 'apply')]] as const) {
      const value = template.Outputs[output]!.Value as JsonObject;
      const text = String(value['Fn::Sub']);
      const flags = [...text.matchAll(/(--[a-z-]+)/g)].map((m) => m[1]!);
      expect(flags.length).toBeGreaterThan(3);
      const known = new Set(cmd.options.map((o) => o.long));
      for (const f of flags) expect(known.has(f), `${output}: ${f}`).toBe(true);
    }
  });
});
