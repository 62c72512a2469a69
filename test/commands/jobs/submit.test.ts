import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  CancelJobRunCommand,
  EMRServerlessClient,
  GetDashboardForJobRunCommand,
  GetJobRunCommand,
  StartJobRunCommand,
  type StartJobRunCommandInput,
} from '@aws-sdk/client-emr-serverless';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { jobsSubmit, type SubmitOptions } from '../../../src/commands/jobs/submit.js';
import { CoattailError } from '../../../src/core/errors.js';
import { Capture, testContext } from '../../helpers/context.js';
import { APP, AWS_FLAGS, BUCKET, jobRunOutput, ROLE, RUN, submitSetup, tempDir } from '../../helpers/emr-submit.js';

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const setup = submitSetup;

const notFound = (): Error => Object.assign(new Error('UnknownError'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });

function tokenOf(job: string, bundleHash: string, args: string[], runNonce: string | null = null): string {
  return sha256(JSON.stringify([APP, job, bundleHash, null, args, runNonce]));
}

function body(buf: Buffer): GetObjectCommandOutput['Body'] {
  return {
    transformToByteArray: async () => new Uint8Array(buf),
    transformToString: async () => buf.toString('utf8'),
  } as unknown as GetObjectCommandOutput['Body'];
}

describe('jobs submit: the StartJobRun request', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
    t.s3Mock.on(HeadObjectCommand).rejects(notFound());
    t.s3Mock.on(PutObjectCommand).resolves({ ETag: '"e"' });
    t.emrMock.on(StartJobRunCommand).resolves({
      applicationId: APP,
      jobRunId: RUN,
      arn: `arn:aws:emr-serverless:eu-west-1:123456789012:/applications/${APP}/jobruns/${RUN}`,
    });
  });

  async function submit(opts: Partial<SubmitOptions>, ctx = testContext({ cwd: t.cwd })): Promise<{ code: number; ctx: typeof ctx }> {
    const code = await jobsSubmit({ job: 'whale-detector', ...AWS_FLAGS, ...opts } as SubmitOptions, ctx, t.deps);
    return { code, ctx };
  }

  function uploadedZipHash(): string {
    const zipPut = t.s3Mock.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key?.endsWith('coattail_jobs.zip'));
    return sha256(zipPut!.args[0].input.Body as Buffer);
  }

  it('streaming: STREAMING mode, retry policy, no timeout, Glue/Iceberg conf, the bundle, S3 logs, the arguments', async () => {
    const { code, ctx } = await submit({ set: ['threshold=250000'] });
    expect(code).toBe(0);
    expect(ctx.out.text()).toBe(`${RUN}\n`);
    const hash = uploadedZipHash();
    const bundle = `s3://${BUCKET}/coattail/bundles/${hash}`;
    const args = [
      'whale-detector',
      '--mode',
      'emr',
      '--stream',
      'coattail-trades',
      '--region',
      'eu-west-1',
      '--alerts-table',
      'coattail-alerts',
      '--checkpoint-root',
      's3://my-coattail/coattail/checkpoints',
      '--raw-root',
      's3://my-coattail/coattail/raw',
      '--set',
      'threshold=250000',
    ];
    const calls = t.emrMock.commandCalls(StartJobRunCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      applicationId: APP,
      clientToken: tokenOf('whale-detector', hash, args),
      executionRoleArn: ROLE,
      name: 'coattail-whale-detector',
      mode: 'STREAMING',
      retryPolicy: { maxFailedAttemptsPerHour: 5 },
      executionTimeoutMinutes: 0,
      jobDriver: { sparkSubmit: { entryPoint: `${bundle}/emr_main.py`, entryPointArguments: args } },
      configurationOverrides: {
        applicationConfiguration: [
          {
            classification: 'spark-defaults',
            properties: {
              'spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON': '/usr/bin/python3.11',
              'spark.emr-serverless.driverEnv.PYSPARK_PYTHON': '/usr/bin/python3.11',
              'spark.executorEnv.PYSPARK_PYTHON': '/usr/bin/python3.11',
              'spark.jars': '/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar',
              'spark.sql.catalog.coattail.warehouse': 's3://my-coattail/warehouse',
              'spark.submit.pyFiles': `${bundle}/coattail_jobs.zip`,
            },
          },
        ],
        monitoringConfiguration: { s3MonitoringConfiguration: { logUri: 's3://my-coattail/coattail/logs/' } },
      },
      tags: { 'coattail:job': 'whale-detector', 'coattail:bundle': hash },
    });
    // The entry script went up beside the zip.
    const entryPut = t.s3Mock.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === `coattail/bundles/${hash}/emr_main.py`);
    expect((entryPut!.args[0].input.Body as Buffer).toString()).toBe('main()\n');
  });

  it('batch: BATCH mode, one attempt, a timeout, --mode emr, then the arguments after --; CloudWatch logs when asked', async () => {
    const passthrough = ['--symbol', 'BTC-USDT', '--start', '2024-01-01'];
    const { code } = await submit({ job: 'historical-loader', args: passthrough, timeoutMinutes: '90', logGroup: '/coattail/emr' });
    expect(code).toBe(0);
    const input = t.emrMock.commandCalls(StartJobRunCommand)[0]!.args[0].input;
    const hash = uploadedZipHash();
    expect(input.mode).toBe('BATCH');
    expect(input.retryPolicy).toEqual({ maxAttempts: 1 });
    expect(input.executionTimeoutMinutes).toBe(90);
    expect(input.name).toBe('coattail-historical-loader');
    // On EMR the job must write to S3, not to the driver's disk that vanishes with the run.
    const args = ['historical-loader', '--mode', 'emr', ...passthrough];
    expect(input.jobDriver).toEqual({
      sparkSubmit: { entryPoint: `s3://my-coattail/coattail/bundles/${hash}/emr_main.py`, entryPointArguments: args },
    });
    expect(input.clientToken).toBe(tokenOf('historical-loader', hash, args));
    expect(input.configurationOverrides?.monitoringConfiguration).toEqual({
      s3MonitoringConfiguration: { logUri: 's3://my-coattail/coattail/logs/' },
      cloudWatchLoggingConfiguration: { enabled: true, logGroupName: '/coattail/emr', logStreamNamePrefix: 'coattail/historical-loader' },
    });
  });

  it('batch: the other batch jobs get --mode emr too (the Glue catalog, not a local warehouse)', async () => {
    for (const job of ['schema-evolution-demo', 'reprocess-anomalies']) {
      t.emrMock.resetHistory();
      expect((await submit({ job, args: ['--json'] })).code).toBe(0);
      const input = t.emrMock.commandCalls(StartJobRunCommand)[0]!.args[0].input;
      expect(input.jobDriver?.sparkSubmit?.entryPointArguments).toEqual([job, '--mode', 'emr', '--json']);
    }
  });

  it('the same command twice sends the same client token and uploads the bundle once', async () => {
    await submit({});
    t.s3Mock.on(HeadObjectCommand).resolves({}); // now in S3
    await submit({});
    const tokens = t.emrMock.commandCalls(StartJobRunCommand).map((c) => c.args[0].input.clientToken);
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBe(tokens[0]);
    expect(t.s3Mock.commandCalls(PutObjectCommand)).toHaveLength(2); // zip + entry script, the first time only
    // Different arguments, or a deliberate re-run, make a different token.
    await submit({ set: ['threshold=1'] });
    await submit({ runName: 'rerun-2' });
    const later = t.emrMock.commandCalls(StartJobRunCommand).map((c) => c.args[0].input);
    expect(new Set(later.map((i) => i.clientToken)).size).toBe(3);
    expect(later[3]!.name).toBe('coattail-whale-detector-rerun-2');
    expect(later[3]!.clientToken).toBe(
      tokenOf('whale-detector', uploadedZipHash(), later[3]!.jobDriver!.sparkSubmit!.entryPointArguments!, 'rerun-2'),
    );
  });

  it('--dry-run prints exactly the request a real submit sends, and calls nothing', async () => {
    await submit({ set: ['threshold=250000'] });
    const sent = t.emrMock.commandCalls(StartJobRunCommand)[0]!.args[0].input;
    t.emrMock.resetHistory();
    t.s3Mock.resetHistory();
    const { code, ctx } = await submit({ set: ['threshold=250000'], dryRun: true });
    expect(code).toBe(0);
    expect(JSON.parse(ctx.out.text()) as StartJobRunCommandInput).toEqual(sent);
    expect(t.emrMock.calls()).toHaveLength(0);
    expect(t.s3Mock.calls()).toHaveLength(0);
  });

  it('--conf goes into sparkSubmitParameters, the resource flags into spark-defaults; both change the token; --dry-run shows them', async () => {
    await submit({});
    const plain = t.emrMock.commandCalls(StartJobRunCommand)[0]!.args[0].input;
    const tuned = {
      conf: ['spark.sql.shuffle.partitions=32', 'spark.speculation=true'],
      executorCores: '2',
      executorMemory: '12g',
      driverMemory: '7168m',
      maxExecutors: '10',
    };
    const { ctx } = await submit({ ...tuned, dryRun: true });
    const input = JSON.parse(ctx.out.text()) as StartJobRunCommandInput;
    expect(input.jobDriver?.sparkSubmit?.sparkSubmitParameters).toBe(
      '--conf spark.sql.shuffle.partitions=32 --conf spark.speculation=true',
    );
    expect(input.configurationOverrides!.applicationConfiguration![0]!.properties).toEqual({
      ...plain.configurationOverrides!.applicationConfiguration![0]!.properties,
      'spark.driver.memory': '7168m',
      'spark.executor.cores': '2',
      'spark.executor.memory': '12g',
      'spark.dynamicAllocation.maxExecutors': '10',
    });
    const args = input.jobDriver!.sparkSubmit!.entryPointArguments!;
    const spark = [
      ['spark.driver.memory', '7168m'],
      ['spark.dynamicAllocation.maxExecutors', '10'],
      ['spark.executor.cores', '2'],
      ['spark.executor.memory', '12g'],
      ['spark.sql.shuffle.partitions', '32'],
      ['spark.speculation', 'true'],
    ];
    expect(input.clientToken).toBe(
      sha256(JSON.stringify([APP, 'whale-detector', uploadedZipHash(), null, args, null, { spark, replaces: [] }])),
    );
    expect(input.clientToken).not.toBe(plain.clientToken);
    // A real submit sends exactly that.
    await submit(tuned);
    expect(t.emrMock.commandCalls(StartJobRunCommand)[1]!.args[0].input).toEqual(input);
  });

  it('--conf refuses a key coattail sets for the run, before any call', async () => {
    const err = (await submit({ conf: ['spark.sql.catalog.coattail.warehouse=s3://elsewhere/wh'] }).catch(
      (e: unknown) => e,
    )) as CoattailError;
    expect(err.exitCode).toBe(2);
    expect(err.line()).toContain('--conf spark.sql.catalog.coattail.warehouse is set by coattail');
    expect(t.emrMock.calls()).toHaveLength(0);
    expect(t.s3Mock.calls()).toHaveLength(0);
  });

  it('a virtualenv archive is uploaded under its own hash and set as spark.archives with its Python', async () => {
    const archive = path.join(t.cwd, 'venv.tar.gz');
    writeFileSync(archive, Buffer.from('not really a tarball'));
    const { code } = await submit({ venvArchive: 'venv.tar.gz' });
    expect(code).toBe(0);
    const venvHash = sha256(Buffer.from('not really a tarball'));
    const venvPut = t.s3Mock.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === `coattail/venvs/${venvHash}/venv.tar.gz`);
    expect(venvPut?.args[0].input).toMatchObject({ Bucket: BUCKET, ContentType: 'application/gzip', ContentLength: 20 });
    const props =
      t.emrMock.commandCalls(StartJobRunCommand)[0]!.args[0].input.configurationOverrides!.applicationConfiguration![0]!.properties!;
    expect(props['spark.archives']).toBe(`s3://my-coattail/coattail/venvs/${venvHash}/venv.tar.gz#environment`);
    expect(props['spark.emr-serverless.driverEnv.PYSPARK_PYTHON']).toBe('./environment/bin/python');
    expect(props['spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON']).toBe('./environment/bin/python');
    expect(props['spark.executorEnv.PYSPARK_PYTHON']).toBe('./environment/bin/python');
  });

  it('settings come from flags, else the environment (via commander), else coattail.config.json; --save-config writes them', async () => {
    const ctx = testContext({ cwd: t.cwd });
    await jobsSubmit({ job: 'whale-detector', ...AWS_FLAGS, saveConfig: true, dryRun: true }, ctx, t.deps);
    expect(JSON.parse(readFileSync(path.join(t.cwd, 'coattail.config.json'), 'utf8'))).toEqual({
      applicationId: APP,
      bucket: BUCKET,
      executionRoleArn: ROLE,
      region: 'eu-west-1',
    });
    const fromFile = testContext({ cwd: t.cwd });
    expect(await jobsSubmit({ job: 'whale-detector', dryRun: true }, fromFile, t.deps)).toBe(0);
    expect(JSON.parse(fromFile.out.text())).toMatchObject({ applicationId: APP, executionRoleArn: ROLE });
    const overridden = testContext({ cwd: t.cwd });
    await jobsSubmit({ job: 'whale-detector', dryRun: true, bucket: 'other-bucket' }, overridden, t.deps);
    expect(JSON.parse(overridden.out.text()).jobDriver.sparkSubmit.entryPoint).toMatch(/^s3:\/\/other-bucket\/coattail\/bundles\//);
  });

  it.each([
    [
      { applicationId: undefined },
      'coattail: --application-id is missing: it is not given as a flag, in COATTAIL_EMR_APPLICATION_ID, or as "applicationId" in coattail.config.json. Pass --application-id (add --save-config to remember it)',
    ],
    [
      { executionRoleArn: 'my-role' },
      "coattail: --execution-role-arn 'my-role' is not valid: it must be an IAM role ARN. Pass it like arn:aws:iam::123456789012:role/coattail-emr-job",
    ],
    [
      { bucket: "b'; DROP" },
      "coattail: --bucket 'b'; DROP' is not valid: a bucket name is 3-63 lower-case letters, digits, dots and hyphens. Pass the bucket's name only, e.g. --bucket my-coattail-bucket",
    ],
    [
      { job: 'whale-detektor' },
      "coattail: unknown job 'whale-detektor': the jobs are raw-archiver, volume-anomaly, whale-detector, spread-calculator, historical-loader, reprocess-anomalies, schema-evolution-demo. Pass one of them, e.g. coattail jobs submit whale-detector",
    ],
    [
      { job: 'historical-loader', set: ['x=1'] },
      'coattail: --set does not apply to historical-loader: batch jobs take their own arguments. Pass them after --, e.g. coattail jobs submit historical-loader -- --help',
    ],
    [
      { retriesPerHour: '11' },
      "coattail: --retries-per-hour '11' is not valid: it must be a whole number from 1 to 10. Pass e.g. --retries-per-hour 1",
    ],
  ])('rejects %j with one line, exit code 2, before any AWS call', async (bad, line) => {
    const err = await submit(bad as Partial<SubmitOptions>).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).line()).toBe(line);
    expect((err as CoattailError).exitCode).toBe(2);
    expect(t.emrMock.calls()).toHaveLength(0);
    expect(t.s3Mock.calls()).toHaveLength(0);
  });

  it('no region from the flags, the variables, the profile or the config file: one line, exit code 2, before any AWS call', async () => {
    const emr = new EMRServerlessClient({ region: 'eu-west-1' });
    const emrMock = mockClient(emr);
    const cwd = tempDir();
    const { AWS_REGION: _r, AWS_DEFAULT_REGION: _d, AWS_PROFILE: _p, ...env } = process.env;
    const err = await jobsSubmit(
      { job: 'whale-detector', applicationId: APP, executionRoleArn: ROLE, bucket: BUCKET },
      testContext({ cwd, env: { ...env, AWS_CONFIG_FILE: path.join(cwd, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(cwd, 'none') } }),
      { ...t.deps, emr },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).line()).toMatch(
      /^coattail: no AWS region: .+\. Pass --region \(e\.g\. --region eu-west-1; add --save-config to remember it\)/,
    );
    expect((err as CoattailError).exitCode).toBe(2);
    expect(emrMock.calls()).toHaveLength(0);
    expect(t.s3Mock.calls()).toHaveLength(0);
  });

  it("an AWS refusal is one line with the service's reason", async () => {
    t.emrMock.on(StartJobRunCommand).rejects(
      Object.assign(new Error('User: arn:aws:iam::123456789012:user/ci is not authorized to perform: emr-serverless:StartJobRun'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const err = (await submit({}).catch((e: unknown) => e)) as CoattailError;
    expect(err.line()).toBe(
      `coattail: cannot start coattail-whale-detector on application ${APP}: AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: emr-serverless:StartJobRun. Check that the credentials in use are current and allowed to do this (see docs/DEPLOY.md for the permissions)`,
    );
  });
});

/** stderr lines without their HH:MM:SS prefix. */
function progressLines(err: Capture): string[] {
  return err.lines().map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''));
}

describe('jobs submit --wait', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
    t.s3Mock.on(HeadObjectCommand).resolves({});
    t.emrMock.on(StartJobRunCommand).resolves({ applicationId: APP, jobRunId: RUN, arn: 'arn' });
    t.emrMock.on(GetDashboardForJobRunCommand).resolves({ url: 'https://p-abc.emrappui-prod.eu-west-1.amazonaws.com/shs/?authToken=x' });
  });

  const quiet = () => testContext({ cwd: t.cwd, logger: testContext().logger });

  it('shows each state transition once, the Spark UI once, and exits 0 on SUCCESS', async () => {
    t.emrMock
      .on(GetJobRunCommand)
      .resolvesOnce(jobRunOutput('SUBMITTED'))
      .resolvesOnce(jobRunOutput('PENDING'))
      .resolvesOnce(jobRunOutput('PENDING'))
      .resolvesOnce(jobRunOutput('RUNNING'))
      .resolvesOnce(jobRunOutput('RUNNING'))
      .resolvesOnce(jobRunOutput('SUCCESS'));
    const ctx = quiet();
    const code = await jobsSubmit({ job: 'whale-detector', ...AWS_FLAGS, wait: true }, ctx, t.deps);
    expect(code).toBe(0);
    expect(progressLines(ctx.err)).toEqual([
      `whale-detector ${RUN}: SUBMITTED`,
      `whale-detector ${RUN}: SUBMITTED → PENDING`,
      `whale-detector ${RUN}: PENDING → RUNNING`,
      'Spark UI: https://p-abc.emrappui-prod.eu-west-1.amazonaws.com/shs/?authToken=x',
      `whale-detector ${RUN}: RUNNING → SUCCESS`,
      `whale-detector ${RUN} ended SUCCESS`,
    ]);
    expect(ctx.err.text()).not.toContain('\x1b'); // not a terminal: no spinner
    expect(ctx.out.text()).toBe(`${RUN}\n`);
    expect(t.emrMock.commandCalls(GetJobRunCommand).map((c) => c.args[0].input)).toEqual(
      Array(6).fill({ applicationId: APP, jobRunId: RUN }),
    );
    expect(t.emrMock.commandCalls(GetDashboardForJobRunCommand).map((c) => c.args[0].input)).toEqual([
      { applicationId: APP, jobRunId: RUN },
    ]);
  });

  it("on FAILED prints the state details and the last 40 lines of the driver's stderr, and exits 1", async () => {
    const stderr = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    t.emrMock
      .on(GetJobRunCommand)
      .resolvesOnce(jobRunOutput('RUNNING'))
      .resolvesOnce(
        jobRunOutput('FAILED', { stateDetails: 'Job failed, please check complete logs in configured logging destination. ExitCode: 1.' }),
      );
    t.s3Mock.on(GetObjectCommand).resolves({ Body: body(gzipSync(stderr)) });
    const ctx = quiet();
    const code = await jobsSubmit({ job: 'whale-detector', ...AWS_FLAGS, wait: true, json: true }, ctx, t.deps);
    expect(code).toBe(1);
    const key = `coattail/logs/applications/${APP}/jobs/${RUN}/SPARK_DRIVER/stderr.gz`;
    expect(t.s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: BUCKET, Key: key }]);
    const lines = progressLines(ctx.err);
    expect(lines.slice(2, 4)).toEqual([
      `whale-detector ${RUN}: RUNNING → FAILED`,
      `whale-detector ${RUN} FAILED: Job failed, please check complete logs in configured logging destination. ExitCode: 1.`,
    ]);
    expect(lines.slice(4)).toEqual([
      `last 40 lines of the driver's stderr (s3://${BUCKET}/${key}):`,
      ...Array.from({ length: 40 }, (_, i) => `line ${i + 11}`),
    ]);
    expect(JSON.parse(ctx.out.text())).toMatchObject({ jobRunId: RUN, state: 'FAILED', exitCode: 1 });
  });

  it('exits 3 when the run ends CANCELLED', async () => {
    t.emrMock.on(GetJobRunCommand).resolvesOnce(jobRunOutput('CANCELLING')).resolvesOnce(jobRunOutput('CANCELLED'));
    expect(await jobsSubmit({ job: 'whale-detector', ...AWS_FLAGS, wait: true }, quiet(), t.deps)).toBe(3);
  });

  it('Ctrl-C stops waiting without asking and leaves the run going (exit 130)', async () => {
    t.emrMock.on(GetJobRunCommand).resolves(jobRunOutput('RUNNING'));
    const ctx = quiet();
    let sleeps = 0;
    t.deps.sleep = async () => {
      if (++sleeps === 3) ctx.abort.abort(new Error('SIGINT'));
    };
    const code = await jobsSubmit({ job: 'whale-detector', ...AWS_FLAGS, wait: true }, ctx, t.deps);
    expect(code).toBe(130);
    expect(t.emrMock.commandCalls(CancelJobRunCommand)).toHaveLength(0);
    expect(t.emrMock.commandCalls(GetJobRunCommand)).toHaveLength(3);
    expect(progressLines(ctx.err).pop()).toBe(
      `stopped waiting; job run ${RUN} goes on. Follow it with 'coattail jobs status ${RUN}', stop it with 'coattail jobs cancel ${RUN}'`,
    );
  });

  it('with --cancel-on-interrupt, Ctrl-C cancels the run and waits until it is cancelled', async () => {
    t.emrMock
      .on(GetJobRunCommand)
      .resolvesOnce(jobRunOutput('RUNNING'))
      .resolvesOnce(jobRunOutput('RUNNING'))
      .resolvesOnce(jobRunOutput('CANCELLING'))
      .resolvesOnce(jobRunOutput('CANCELLED'));
    t.emrMock.on(CancelJobRunCommand).resolves({ applicationId: APP, jobRunId: RUN });
    const ctx = quiet();
    let sleeps = 0;
    t.deps.sleep = async () => {
      if (++sleeps === 1) ctx.abort.abort(new Error('SIGINT'));
    };
    const code = await jobsSubmit({ job: 'whale-detector', ...AWS_FLAGS, wait: true, cancelOnInterrupt: true }, ctx, t.deps);
    expect(code).toBe(130);
    expect(t.emrMock.commandCalls(CancelJobRunCommand).map((c) => c.args[0].input)).toEqual([{ applicationId: APP, jobRunId: RUN }]);
    const lines = progressLines(ctx.err);
    expect(lines).toContain(`cancelling job run ${RUN} (--cancel-on-interrupt); Ctrl-C again to stop waiting`);
    expect(lines).toContain(`whale-detector ${RUN}: RUNNING → CANCELLING`);
    expect(lines.pop()).toBe(`whale-detector ${RUN} ended CANCELLED`);
  });
});
