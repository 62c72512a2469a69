/**
 * `coattail doctor --json`: the AWS checks with the SDK mocked at its boundary (the requests asserted), the
 * local ones against this machine and the real emulators started by vitest's global setup.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException as TableNotFound } from '@aws-sdk/client-dynamodb';
import { EMRServerlessClient, GetApplicationCommand } from '@aws-sdk/client-emr-serverless';
import { DescribeStreamSummaryCommand, KinesisClient, ResourceNotFoundException } from '@aws-sdk/client-kinesis';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { doctor, type DoctorOptions } from '../../src/commands/doctor.js';
import { freePort } from '../../src/local/processes.js';
import { testContext, tempDir } from '../helpers/context.js';
import { PROFILE_REGIONS, SECRETS, useAwsHome, writeConfig } from '../helpers/aws-home.js';

interface Result {
  check: string;
  ok: boolean;
  detail: string;
  fix: string;
  skipped?: boolean;
}

const APP = '00fdoctorapp0001';
const BUCKET = 'doctor-bucket';
const STREAM = 'doctor-trades';
const TABLE = 'doctor-alerts';

async function runDoctor(
  opts: Partial<DoctorOptions>,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; results: Result[]; byName: Record<string, Result>; text: string }> {
  const ctx = testContext({ cwd, env: { ...env } });
  const code = await doctor({ stateDir: path.join(cwd, 'no-state'), timeout: '10', json: true, ...opts }, ctx);
  const results = JSON.parse(ctx.out.text()) as Result[];
  return { code, results, byName: Object.fromEntries(results.map((r) => [r.check, r])), text: ctx.out.text() + ctx.err.text() };
}

const AWS_CHECKS = ['aws credentials', 'stream', 'alert table', 'emr application', 'bucket'];

describe('the AWS checks (SDK mocked at its boundary)', () => {
  const stubs = () => ({
    sts: mockClient(STSClient),
    kinesis: mockClient(KinesisClient),
    dynamo: mockClient(DynamoDBClient),
    emr: mockClient(EMRServerlessClient),
    s3: mockClient(S3Client),
  });
  let m: ReturnType<typeof stubs>;
  let sts: ReturnType<typeof stubs>['sts'];
  let kinesis: ReturnType<typeof stubs>['kinesis'];
  let dynamo: ReturnType<typeof stubs>['dynamo'];
  let emr: ReturnType<typeof stubs>['emr'];
  let s3: ReturnType<typeof stubs>['s3'];

  beforeEach(() => {
    m = stubs();
    ({ sts, kinesis, dynamo, emr, s3 } = m);
  });

  afterEach(() => {
    for (const stub of Object.values(m)) stub.restore();
    vi.unstubAllEnvs();
  });

  function answerAll(): void {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/ops' });
    kinesis.on(DescribeStreamSummaryCommand).resolves({
      StreamDescriptionSummary: {
        StreamName: STREAM,
        StreamARN: 'arn',
        StreamStatus: 'ACTIVE',
        RetentionPeriodHours: 24,
        StreamCreationTimestamp: new Date(0),
        EnhancedMonitoring: [],
        OpenShardCount: 2,
      },
    });
    dynamo.on(DescribeTableCommand).resolves({ Table: { TableName: TABLE, TableStatus: 'ACTIVE' } });
    emr.on(GetApplicationCommand).resolves({
      application: {
        applicationId: APP,
        name: 'coattail',
        state: 'CREATED',
        releaseLabel: 'emr-7.12.0',
        type: 'SPARK',
        arn: 'arn',
        createdAt: new Date(0),
        updatedAt: new Date(0),
      },
    });
    s3.on(HeadBucketCommand).resolves({});
  }

  it('✓ each, asking for the stream, table, application and bucket of the config file, with the profile and its region', async () => {
    const { cwd } = useAwsHome();
    writeConfig(cwd, { profile: 'prod', stream: STREAM, alertsTable: TABLE, applicationId: APP, bucket: BUCKET });
    answerAll();
    const { code, results, byName, text } = await runDoctor({}, cwd);
    for (const name of AWS_CHECKS) expect(byName[name], name).toMatchObject({ ok: true, fix: '' });
    expect(byName['aws credentials']!.detail).toBe(
      `arn:aws:iam::123456789012:user/ops (account 123456789012) via profile (prod), in ${PROFILE_REGIONS.prod}`,
    );
    expect(byName.stream!.detail).toBe(`${STREAM}: ACTIVE, 2 open shard(s)`);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    expect(kinesis.commandCalls(DescribeStreamSummaryCommand).map((c) => c.args[0].input)).toEqual([{ StreamName: STREAM }]);
    expect(dynamo.commandCalls(DescribeTableCommand).map((c) => c.args[0].input)).toEqual([{ TableName: TABLE }]);
    expect(emr.commandCalls(GetApplicationCommand).map((c) => c.args[0].input)).toEqual([{ applicationId: APP }]);
    expect(s3.commandCalls(HeadBucketCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: BUCKET }]);
    // The clients were built for the profile's region.
    const client = sts.commandCalls(GetCallerIdentityCommand)[0]!.thisValue as STSClient;
    expect(await client.config.region()).toBe(PROFILE_REGIONS.prod);
    expect(code).toBe(results.every((r) => r.ok) ? 0 : 1);
    expect(text).not.toContain(SECRETS.prod);
  });

  it('✗ credentials: the fix names the profile, the rest is skipped without a call, exit 1', async () => {
    const { cwd } = useAwsHome();
    sts
      .on(GetCallerIdentityCommand)
      .rejects(Object.assign(new Error('The security token included in the request is invalid.'), { name: 'InvalidClientTokenId' }));
    const { code, byName } = await runDoctor({ profile: 'prod' }, cwd);
    expect(byName['aws credentials']).toEqual({
      check: 'aws credentials',
      ok: false,
      detail: 'InvalidClientTokenId: The security token included in the request is invalid.',
      fix: 'run aws configure --profile prod (or aws sso login --profile prod)',
    });
    for (const name of AWS_CHECKS.slice(1))
      expect(byName[name]).toMatchObject({ ok: true, skipped: true, detail: 'skipped: no credentials (--profile prod)' });
    expect(kinesis.calls()).toHaveLength(0);
    expect(code).toBe(1);
  });

  it('✗ a missing stream and table, each with its fix; no application or bucket set: skipped', async () => {
    const { cwd } = useAwsHome();
    answerAll();
    kinesis
      .on(DescribeStreamSummaryCommand)
      .rejects(new ResourceNotFoundException({ message: `Stream ${STREAM} under account 123456789012 not found.`, $metadata: {} }));
    dynamo.on(DescribeTableCommand).rejects(new TableNotFound({ message: 'Requested resource not found', $metadata: {} }));
    const env = { ...process.env, COATTAIL_STREAM: STREAM, COATTAIL_ALERTS_TABLE: TABLE };
    const { code, byName } = await runDoctor({ region: 'eu-west-1' }, cwd, env);
    expect(byName.stream).toEqual({
      check: 'stream',
      ok: false,
      detail: `ResourceNotFoundException: Stream ${STREAM} under account 123456789012 not found.`,
      fix: 'create it (deploy/), or set "stream" / COATTAIL_STREAM to the right name in eu-west-1',
    });
    expect(byName['alert table']).toMatchObject({
      ok: false,
      fix: 'create it (deploy/), or set "alertsTable" / COATTAIL_ALERTS_TABLE in eu-west-1',
    });
    expect(byName['emr application']!.detail).toMatch(/^skipped: no applicationId/);
    expect(byName.bucket!.detail).toMatch(/^skipped: no bucket/);
    expect(emr.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
    expect(code).toBe(1);
  });

  it('a call that never answers is a ✗ once its timeout has passed: doctor does not hang', async () => {
    const { cwd } = useAwsHome();
    sts.on(GetCallerIdentityCommand).callsFake(() => new Promise(() => undefined));
    const { code, byName } = await runDoctor({ region: 'eu-west-1', timeout: '1' }, cwd);
    expect(byName['aws credentials']).toMatchObject({ ok: false, detail: 'no answer within 1s' });
    expect(code).toBe(1);
  });

  it('no region: the AWS checks are skipped, saying why, with no call', async () => {
    const { cwd } = useAwsHome();
    const { byName } = await runDoctor({ profile: 'bare' }, cwd);
    for (const name of AWS_CHECKS)
      expect(byName[name]!.detail).toBe('skipped: no region (pass --region, set AWS_REGION or a profile region)');
    expect(sts.calls()).toHaveLength(0);
  });

  it('as text: one line per check, ✓ / ✗ / - for skipped, the fix under each ✗, then the count', async () => {
    const { cwd } = useAwsHome();
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('expired'), { name: 'ExpiredToken' }));
    const ctx = testContext({ cwd, env: { ...process.env, JAVA_HOME: path.join(cwd, 'no-java') } });
    expect(await doctor({ stateDir: path.join(cwd, 'no-state'), region: 'eu-west-1' }, ctx)).toBe(1);
    const lines = ctx.out.lines();
    const at = (check: string): number => lines.findIndex((l) => new RegExp(`^[✓✗-] ${check}\\s`).test(l));
    expect(lines[at('aws credentials')]).toMatch(/^✗ aws credentials\s+ExpiredToken: expired$/);
    expect(lines[at('aws credentials') + 1]).toMatch(/^\s+fix: run aws configure, set AWS_PROFILE, or pass --profile$/);
    expect(lines[at('java')]).toMatch(/^✗ java\s+/);
    expect(lines[at('stream')]).toMatch(/^- stream\s+skipped: no credentials \(the default credentials\)$/);
    expect(lines[at('node')]).toMatch(/^✓ node\s+Node /);
    expect(lines.at(-1)).toMatch(/^\d+ check\(s\) failed$/);
  });

  it('--local: no AWS call at all', async () => {
    const { cwd } = useAwsHome();
    const { byName } = await runDoctor({ local: true, region: 'eu-west-1' }, cwd);
    for (const name of AWS_CHECKS) expect(byName[name]).toMatchObject({ ok: true, skipped: true, detail: 'skipped: --local' });
    expect(sts.calls()).toHaveLength(0);
  });
});

describe('the local checks', () => {
  function stateDir(kinesis: string, dynamodb: string): string {
    const dir = tempDir('doctor-state');
    const emulator = (endpoint: string) => ({
      pid: null,
      port: Number(new URL(endpoint).port),
      endpoint,
      log_file: '/dev/null',
      data_dir: dir,
      started_at: null,
    });
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'state.json'),
      JSON.stringify({
        version: 1,
        region: 'us-east-1',
        stream: 'coattail-trades',
        shards: 1,
        tables: [],
        kinesis: { ...emulator(kinesis), tls_port: 1 },
        dynamodb: emulator(dynamodb),
        updated_at: new Date(0).toISOString(),
      }),
    );
    return dir;
  }

  it('the running emulators answer: ✓', async () => {
    const cwd = tempDir('doctor');
    const { byName } = await runDoctor({ local: true, stateDir: stateDir(inject('kinesisEndpoint'), inject('dynamoEndpoint')) }, cwd);
    expect(byName['emulator kinesis']).toEqual({
      check: 'emulator kinesis',
      ok: true,
      detail: `Kinesis emulator answers at ${inject('kinesisEndpoint')}`,
      fix: '',
    });
    expect(byName['emulator dynamodb']).toMatchObject({
      ok: true,
      detail: `DynamoDB-compatible store answers at ${inject('dynamoEndpoint')}`,
    });
  });

  it('an emulator recorded but not answering: ✗ with the fix, exit 1', async () => {
    const cwd = tempDir('doctor');
    const closed = `http://127.0.0.1:${await freePort()}`;
    const { code, byName } = await runDoctor({ local: true, timeout: '5', stateDir: stateDir(closed, inject('dynamoEndpoint')) }, cwd);
    expect(byName['emulator kinesis']).toMatchObject({
      ok: false,
      fix: "run 'coattail local up' (it restarts what is down), or 'coattail local status' for its log",
    });
    expect(byName['emulator dynamodb']!.ok).toBe(true);
    expect(code).toBe(1);
  });

  it('no emulators started: skipped, naming coattail local up', async () => {
    const cwd = tempDir('doctor');
    const { byName } = await runDoctor({ local: true }, cwd);
    expect(byName['emulator kinesis']!.detail).toBe(
      `skipped: not started (no ${path.join(cwd, 'no-state', 'state.json')}); 'coattail local up' starts it`,
    );
  });

  it('Node, Python and Java: ✓ on this machine, ✗ with the fix when the Python or Java named is not there', async () => {
    const cwd = tempDir('doctor');
    const good = await runDoctor({ local: true }, cwd);
    expect(good.byName.node).toMatchObject({ ok: true, detail: expect.stringContaining(`Node ${process.versions.node}`) as unknown });
    expect(good.byName.python).toMatchObject({ ok: true, detail: expect.stringMatching(/^Python 3\.11\.\d+ at /) as unknown });
    expect(good.byName.java).toMatchObject({ ok: true, detail: expect.stringMatching(/^Java 17/) as unknown });
    const bad = await runDoctor({ local: true }, cwd, {
      ...process.env,
      COATTAIL_PYTHON: path.join(cwd, 'no-python'),
      JAVA_HOME: path.join(cwd, 'no-java'),
    });
    expect(bad.byName.python).toMatchObject({
      ok: false,
      fix: 'run make install-py (or set COATTAIL_PYTHON to a Python 3.11 with coattail_jobs installed)',
    });
    expect(bad.byName.java).toMatchObject({
      ok: false,
      fix: 'install Java 17 (e.g. apt-get install openjdk-17-jre-headless) and put it on PATH or set JAVA_HOME',
    });
    expect(bad.byName.jars).toMatchObject({ ok: true, skipped: true });
    expect(bad.code).toBe(1);
  });
});
