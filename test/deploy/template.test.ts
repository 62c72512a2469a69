/**
 * deploy/cloudformation/coattail.yaml against the code: the names, the alert table's layout, the bucket's
 * locations, the Glue database, the metric namespace and the ingest task's stop budget all come from the
 * sources here (the code's constants, the command tree's defaults, the DDL, the jobs' config), never from
 * the template itself. cfn-lint checks the template's CloudFormation (make lint-deploy); this checks that it
 * describes what the code expects, and runs the ingest task's command against the simulator and the emulator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { buildProgram } from '../../src/cli.js';
import { DEFAULT_ALERTS_TABLE, DEFAULT_STREAM } from '../../src/spark/emr/settings.js';
import { bucketLayout } from '../../src/config/layout.js';
import { STREAMING_JOBS } from '../../src/spark/jobs.js';
import { decodeAggregated } from '../../src/kinesis/kpl.js';
import { readStreamRecords } from '../../src/kinesis/read-stream.js';
import { ALERTS_BY_TYPE_TIME_INDEX, ALERTS_TABLE, alertsTableDefinition, ensureStream } from '../../src/local/resources.js';
import { parseScenario, startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { ROOT, loadTemplate, type Json, type JsonObject } from '../helpers/deploy.js';

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

describe("names are the code's defaults", () => {
  it('the stream', () => {
    expect(paramDefault('StreamName')).toBe(DEFAULT_STREAM);
    expect(resource('TradeStream').Name).toEqual({ Ref: 'StreamName' });
  });

  it('the alert table', () => {
    expect(paramDefault('AlertsTableName')).toBe(ALERTS_TABLE);
    expect(paramDefault('AlertsTableName')).toBe(DEFAULT_ALERTS_TABLE);
    expect(resource('AlertsTable').TableName).toEqual({ Ref: 'AlertsTableName' });
  });

  it("the Glue database is the DDL's, located where the DDL and the jobs' catalog put its tables", () => {
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
    // dead_letters.py's dlq_dir: {raw_root}/dlq/{reason}/dt={day}.
    expect(readRepo('jobs-py', 'coattail_jobs', 'dead_letters.py')).toContain('return f"{raw_root.rstrip(\'/\')}/dlq/{reason}/dt={day}"');
    expect(rules.map((r) => r.Prefix).sort()).toEqual(
      [keyOf(layout.logUri), keyOf(layout.athenaOutput), `${keyOf(layout.rawRoot)}/dlq/`].sort(),
    );
  });

  it('is private, encrypted, TLS only', () => {
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    const deny = ((resource('DataBucketPolicy').PolicyDocument as JsonObject).Statement as JsonObject[])[0]!;
    expect(deny).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });

  it('the Athena work group writes results where ddl apply expects them', () => {
    const config = resource('AthenaWorkGroup').WorkGroupConfiguration as JsonObject;
    expect((config.ResultConfiguration as JsonObject).OutputLocation).toEqual({
      'Fn::Sub': layout.athenaOutput.replace('s3://B/', 's3://${DataBucket}/'),
    });
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
    const undeliveredTs = readRepo('src', 'ingest', 'undelivered-file.ts');
    const m = /k\.logger\.error\(\s*'([^']+)',\s*\{\s*count: records\.length/.exec(undeliveredTs);
    expect(m).not.toBeNull();
    const filter = resource('IngestUndeliveredMetric');
    expect(filter.FilterPattern).toBe(`{ $.msg = "${m![1]}" }`);
    expect((filter.MetricTransformations as JsonObject[])[0]!.MetricValue).toBe('$.count');
    const env = containerEnv();
    expect(env.COATTAIL_LOG_FORMAT).toBe('json'); // what src/core/context.ts reads to log JSON
    expect(readRepo('src', 'core', 'context.ts')).toContain("env.COATTAIL_LOG_FORMAT === 'json'");
  });
});

describe('the alarms on trades neither delivered nor saved', () => {
  it.each([
    ['IngestHeldMetric', 'IngestUnsavedAlarm', /this\.logger\.error\(\s*'([^']+)',\s*\{\s*records: records\.length/],
    ['IngestLostMetric', 'IngestLostAlarm', /this\.logger\.error\(\s*'([^']+)',\s*\{\s*records: held\.records\.length/],
  ])('%s matches the line the writer logs, and %s fires on one trade', (filterName, alarmName, line) => {
    const m = line.exec(readRepo('src', 'kinesis', 'writer.ts'));
    expect(m).not.toBeNull();
    const filter = resource(filterName);
    expect(filter.FilterPattern).toBe(`{ $.msg = "${m![1]}" }`);
    const transform = (filter.MetricTransformations as JsonObject[])[0]!;
    expect(transform.MetricValue).toBe('$.records');
    const alarm = resource(alarmName);
    expect([alarm.Namespace, alarm.MetricName]).toEqual([transform.MetricNamespace, transform.MetricName]);
    expect([alarm.Statistic, alarm.Threshold, alarm.ComparisonOperator, alarm.TreatMissingData]).toEqual([
      'Sum',
      1,
      'GreaterThanOrEqualToThreshold',
      'notBreaching',
    ]);
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

  it("runs the image's ingest command, as the task role, with logs to its log group", () => {
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

/** A value of the task definition as ECS would see it: a literal, or a `Ref` to a parameter (or the region). */
function resolve(value: Json, params: Record<string, string>): string {
  if (typeof value === 'string') return value;
  const ref = (value as JsonObject | null)?.Ref;
  if (typeof ref !== 'string') throw new Error(`cannot resolve ${JSON.stringify(value)}`);
  const v = params[ref] ?? paramDefault(ref);
  if (typeof v !== 'string') throw new Error(`no value for ${ref}`);
  return v;
}

describe('the deployed ingest, run as the task runs it', () => {
  const running: { sims: SimulatorHandle[]; children: ChildProcess[] } = { sims: [], children: [] };
  afterEach(async () => {
    for (const c of running.children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    await Promise.all(running.sims.splice(0).map((s) => s.close()));
  });

  // The partition key is the symbol, so one symbol is one shard: 1,000 records/s as plain records. Packed
  // into KPL aggregates, a shard takes its 1 MiB/s instead (docs/DEPLOY.md, "Shards and aggregation").
  it('writes KPL aggregates, each holding trades of its own partition key only', async () => {
    const stream = `deploy-task-${Date.now()}`;
    const region = 'eu-west-1'; // the stack's, which the task passes on as AWS_REGION
    const client = createKinesisClient({ endpoint: inject('kinesisEndpoint'), region }, {});
    await ensureStream(client, stream, 2);
    const symbols = String(paramDefault('IngestSymbols')).split(',');
    const sim = await startSimulator({
      scenario: parseScenario({
        symbols: symbols.map((symbol) => ({ symbol, startPrice: 100 })),
        waitForClients: true,
        rate: 1000,
        totalTrades: 600,
      }),
      seed: 7,
    });
    running.sims.push(sim);
    // Coinbase's first message per product is last_match, a trade printed before anyone subscribed.
    const total = 600 + sim.initialTrades.filter((t) => t.exchange === 'coinbase').length;

    const task = container();
    const taskEnv = Object.fromEntries(
      (task.Environment as JsonObject[]).map((e) => [e.Name as string, resolve(e.Value!, { 'AWS::Region': region, StreamName: stream })]),
    );
    // Only where AWS and the exchanges are changes (the emulator, the simulator), and when to stop.
    const standIns = {
      COATTAIL_KINESIS_ENDPOINT: inject('kinesisEndpoint'),
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      COATTAIL_BINANCE_URL: sim.binanceUrl,
      COATTAIL_COINBASE_URL: sim.coinbaseUrl,
      COATTAIL_BINANCE_REST_URL: sim.binanceRestUrl,
      COATTAIL_COINBASE_REST_URL: sim.coinbaseRestUrl,
      COATTAIL_MAX_TRADES: String(total),
    };
    // The image's ENTRYPOINT is `node bin/coattail` (test/deploy/docker.test.ts); the task's Command follows it.
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'coattail'), ...(task.Command as string[])], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NO_COLOR: '1', ...taskEnv, ...standIns },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    running.children.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code, err).toBe(0);
    const summary = JSON.parse(err.trim().split('\n').at(-1)!) as { sent: number; failed: number };
    expect(summary).toMatchObject({ sent: total, failed: 0 });

    const records = await readStreamRecords(client, stream);
    const aggregates = records.map((r) => ({ key: r.partitionKey, inner: decodeAggregated(r.data) })).filter((r) => r.inner !== undefined);
    const packed = aggregates.reduce((n, a) => n + a.inner!.length, 0);
    const plain = records.length - aggregates.length;
    expect(packed + plain).toBe(total);
    // Most trades travel packed: a lone trade of a symbol in a flush goes plain, as the KPL sends it.
    expect(packed).toBeGreaterThan(total / 2);
    // Far fewer Kinesis records than trades: what a symbol's 1,000 records/s counts.
    expect(records.length).toBeLessThan(total / 5);
    // The aws-kinesis connector drops user records whose key hashes outside the shard the aggregate is in
    // (AggregatorUtil.deaggregate): every trade in an aggregate carries the aggregate's own key.
    for (const a of aggregates) for (const u of a.inner!) expect(u.partitionKey).toBe(a.key);
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

  it("the outputs' ready-made commands use only flags the commands have", () => {
    for (const [output, cmd] of [
      ['SaveJobsConfig', command('jobs', 'submit')],
      ['SaveDdlConfig', command('ddl', 'apply')],
    ] as const) {
      const value = template.Outputs[output]!.Value as JsonObject;
      const text = String(value['Fn::Sub']);
      const flags = [...text.matchAll(/(--[a-z-]+)/g)].map((m) => m[1]!);
      expect(flags.length).toBeGreaterThan(3);
      const known = new Set(cmd.options.map((o) => o.long));
      for (const f of flags) expect(known.has(f), `${output}: ${f}`).toBe(true);
    }
  });
});
