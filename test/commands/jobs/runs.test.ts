import { gzipSync } from 'node:zlib';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CancelJobRunCommand,
  EMRServerlessClient,
  GetJobRunCommand,
  ListJobRunsCommand,
  type JobRun,
  type JobRunSummary,
} from '@aws-sdk/client-emr-serverless';
import { GetObjectCommand, S3Client, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { jobsLogs } from '../../../src/commands/jobs/logs.js';
import { jobsCancel } from '../../../src/commands/jobs/cancel.js';
import { jobsList } from '../../../src/commands/jobs/list.js';
import { jobsStatus } from '../../../src/commands/jobs/status.js';
import type { JobsDeps } from '../../../src/spark/emr/settings.js';
import { CoattailError } from '../../../src/core/errors.js';
import { testContext } from '../../helpers/context.js';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
const cwd = mkdtempSync(path.join(os.tmpdir(), 'coattail-runs-'));
tempDirs.push(cwd);

const APP = '00fabc123def4567';
const RUN = '00fr1234abcd';
const FLAGS = { applicationId: APP, region: 'eu-west-1' };
const LOG_PREFIX = `coattail/logs/applications/${APP}/jobs/${RUN}/SPARK_DRIVER/`;

function summary(id: string, name: string, state: string, minute: number): JobRunSummary {
  return {
    applicationId: APP,
    id,
    name,
    mode: name.includes('historical') ? 'BATCH' : 'STREAMING',
    arn: `arn:${id}`,
    createdBy: 'me',
    createdAt: new Date(Date.UTC(2026, 0, 2, 3, minute, 5, 123)),
    updatedAt: new Date(Date.UTC(2026, 0, 2, 3, minute + 1, 0)),
    executionRole: 'arn:aws:iam::123456789012:role/r',
    state: state as JobRunSummary['state'],
    stateDetails: state === 'FAILED' ? 'ExitCode: 1' : '',
    releaseLabel: 'emr-7.12.0',
    attempt: 1,
  };
}

function run(state: string, extra: Partial<JobRun> = {}): { jobRun: JobRun } {
  return {
    jobRun: {
      applicationId: APP,
      jobRunId: RUN,
      name: 'coattail-whale-detector',
      arn: 'arn',
      createdBy: 'me',
      createdAt: new Date('2026-01-02T03:04:05Z'),
      updatedAt: new Date('2026-01-02T03:09:00Z'),
      executionRole: 'arn:aws:iam::123456789012:role/r',
      state: state as JobRun['state'],
      stateDetails: '',
      releaseLabel: 'emr-7.12.0',
      mode: 'STREAMING',
      attempt: 2,
      totalExecutionDurationSeconds: 295,
      jobDriver: { sparkSubmit: { entryPoint: 's3://x/emr_main.py' } },
      configurationOverrides: { monitoringConfiguration: { s3MonitoringConfiguration: { logUri: 's3://my-coattail/coattail/logs/' } } },
      ...extra,
    },
  };
}

function body(text: string): GetObjectCommandOutput['Body'] {
  const buf = gzipSync(text);
  return {
    transformToByteArray: async () => new Uint8Array(buf),
    transformToString: async () => text,
  } as unknown as GetObjectCommandOutput['Body'];
}
const noSuchKey = (): Error =>
  Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });

let emr: EMRServerlessClient;
let s3: S3Client;
let emrMock: ReturnType<typeof mockClient>;
let s3Mock: ReturnType<typeof mockClient>;
let deps: JobsDeps;
beforeEach(() => {
  emr = new EMRServerlessClient({ region: 'eu-west-1' });
  s3 = new S3Client({ region: 'eu-west-1' });
  emrMock = mockClient(emr);
  s3Mock = mockClient(s3);
  deps = { emr, s3, sleep: async () => {}, pollMs: 1 };
});

describe('jobs list', () => {
  const runs = [
    summary('00r3', 'coattail-whale-detector', 'RUNNING', 30),
    summary('00r2', 'coattail-historical-loader', 'SUCCESS', 20),
    summary('00r1', 'someone-elses-job', 'FAILED', 10),
  ];

  it('shows the runs as a table, newest first', async () => {
    emrMock.on(ListJobRunsCommand).resolves({ jobRuns: runs });
    const ctx = testContext({ cwd });
    expect(await jobsList({ ...FLAGS }, ctx, deps)).toBe(0);
    const rows = ctx.out
      .lines()
      .filter((l) => l.startsWith('│'))
      .map((l) =>
        l
          .split('│')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    expect(rows).toEqual([
      ['RUN ID', 'JOB', 'MODE', 'STATE', 'ATTEMPT', 'CREATED (UTC)', 'UPDATED (UTC)'],
      ['00r3', 'whale-detector', 'STREAMING', 'RUNNING', '1', '2026-01-02T03:30:05Z', '2026-01-02T03:31:00Z'],
      ['00r2', 'historical-loader', 'BATCH', 'SUCCESS', '1', '2026-01-02T03:20:05Z', '2026-01-02T03:21:00Z'],
      ['00r1', 'someone-elses-job', 'STREAMING', 'FAILED', '1', '2026-01-02T03:10:05Z', '2026-01-02T03:11:00Z'],
    ]);
    expect(ctx.out.text()).not.toContain('\x1b'); // no colours in the table
    expect(emrMock.commandCalls(ListJobRunsCommand).map((c) => c.args[0].input)).toEqual([{ applicationId: APP, maxResults: 50 }]);
  });

  it('--json, --state and --job: the filter goes to the API, the job is matched by run name, pages are followed', async () => {
    emrMock
      .on(ListJobRunsCommand)
      .resolvesOnce({ jobRuns: [runs[0]!, runs[2]!], nextToken: 'page2' })
      .resolvesOnce({ jobRuns: [summary('00r0', 'coattail-whale-detector-rerun-1', 'RUNNING', 5)] });
    const ctx = testContext({ cwd });
    expect(await jobsList({ ...FLAGS, json: true, state: 'running,failed', job: 'whale-detector' }, ctx, deps)).toBe(0);
    expect(JSON.parse(ctx.out.text())).toEqual([
      {
        id: '00r3',
        name: 'coattail-whale-detector',
        job: 'whale-detector',
        mode: 'STREAMING',
        state: 'RUNNING',
        stateDetails: null,
        attempt: 1,
        createdAt: '2026-01-02T03:30:05Z',
        updatedAt: '2026-01-02T03:31:00Z',
      },
      {
        id: '00r0',
        name: 'coattail-whale-detector-rerun-1',
        job: 'whale-detector',
        mode: 'STREAMING',
        state: 'RUNNING',
        stateDetails: null,
        attempt: 1,
        createdAt: '2026-01-02T03:05:05Z',
        updatedAt: '2026-01-02T03:06:00Z',
      },
    ]);
    expect(emrMock.commandCalls(ListJobRunsCommand).map((c) => c.args[0].input)).toEqual([
      { applicationId: APP, maxResults: 50, states: ['RUNNING', 'FAILED'] },
      { applicationId: APP, maxResults: 50, states: ['RUNNING', 'FAILED'], nextToken: 'page2' },
    ]);
  });

  it('stops at --limit and refuses an unknown state', async () => {
    emrMock.on(ListJobRunsCommand).resolves({ jobRuns: runs, nextToken: 'more' });
    const ctx = testContext({ cwd });
    await jobsList({ ...FLAGS, json: true, limit: '2' }, ctx, deps);
    expect((JSON.parse(ctx.out.text()) as unknown[]).length).toBe(2);
    expect(emrMock.commandCalls(ListJobRunsCommand)).toHaveLength(1);
    const err = (await jobsList({ ...FLAGS, state: 'DONE' }, testContext({ cwd }), deps).catch((e: unknown) => e)) as CoattailError;
    expect(err.line()).toBe(
      'coattail: --state DONE is not a job run state: the states are SUBMITTED, PENDING, SCHEDULED, QUEUED, RUNNING, SUCCESS, FAILED, CANCELLING, CANCELLED. Pass one or more, comma-separated, e.g. --state RUNNING,FAILED',
    );
  });
});

describe('jobs status', () => {
  it('shows one run as a table, or --json', async () => {
    emrMock.on(GetJobRunCommand).resolves(run('RUNNING'));
    const ctx = testContext({ cwd });
    expect(await jobsStatus({ ...FLAGS, runId: RUN }, ctx, deps)).toBe(0);
    const rows = ctx.out
      .lines()
      .filter((l) => l.startsWith('│'))
      .map((l) =>
        l
          .split('│')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    expect(rows).toEqual([
      ['Run ID', RUN],
      ['Name', 'coattail-whale-detector'],
      ['Job', 'whale-detector'],
      ['Mode', 'STREAMING'],
      ['State', 'RUNNING'],
      ['Details', ''],
      ['Attempt', '2'],
      ['Created (UTC)', '2026-01-02T03:04:05Z'],
      ['Updated (UTC)', '2026-01-02T03:09:00Z'],
      ['Duration', '295 s'],
      ['Release', 'emr-7.12.0'],
      ['Logs', `s3://my-coattail/${LOG_PREFIX}`],
    ]);
    const json = testContext({ cwd });
    await jobsStatus({ ...FLAGS, runId: RUN, json: true }, json, deps);
    expect(JSON.parse(json.out.text())).toEqual({
      id: RUN,
      name: 'coattail-whale-detector',
      job: 'whale-detector',
      mode: 'STREAMING',
      state: 'RUNNING',
      stateDetails: null,
      attempt: 2,
      createdAt: '2026-01-02T03:04:05Z',
      updatedAt: '2026-01-02T03:09:00Z',
      releaseLabel: 'emr-7.12.0',
      logs: `s3://my-coattail/${LOG_PREFIX}`,
      durationSeconds: 295,
    });
    expect(emrMock.commandCalls(GetJobRunCommand).map((c) => c.args[0].input)).toEqual([
      { applicationId: APP, jobRunId: RUN },
      { applicationId: APP, jobRunId: RUN },
    ]);
  });

  it("a missing run is one line with the service's reason; a malformed id never reaches AWS", async () => {
    emrMock.on(GetJobRunCommand).rejects(
      Object.assign(new Error(`Job run ${RUN} does not exist.`), {
        name: 'ResourceNotFoundException',
        $metadata: { httpStatusCode: 404 },
      }),
    );
    const err = (await jobsStatus({ ...FLAGS, runId: RUN }, testContext({ cwd }), deps).catch((e: unknown) => e)) as CoattailError;
    expect(err.line()).toBe(
      `coattail: cannot read job run ${RUN}: ResourceNotFoundException: Job run ${RUN} does not exist. Check the ids and names given (flags, environment, coattail.config.json)`,
    );
    emrMock.resetHistory();
    const bad = (await jobsStatus({ ...FLAGS, runId: '../x' }, testContext({ cwd }), deps).catch((e: unknown) => e)) as CoattailError;
    expect(bad.exitCode).toBe(2);
    expect(emrMock.calls()).toHaveLength(0);
  });
});

describe('jobs cancel', () => {
  it('cancels and waits for a terminal state', async () => {
    emrMock
      .on(GetJobRunCommand)
      .resolvesOnce(run('RUNNING'))
      .resolvesOnce(run('CANCELLING'))
      .resolvesOnce(run('CANCELLING'))
      .resolvesOnce(run('CANCELLED'));
    emrMock.on(CancelJobRunCommand).resolves({ applicationId: APP, jobRunId: RUN });
    const ctx = testContext({ cwd });
    expect(await jobsCancel({ ...FLAGS, runId: RUN }, ctx, deps)).toBe(0);
    expect(emrMock.commandCalls(CancelJobRunCommand).map((c) => c.args[0].input)).toEqual([{ applicationId: APP, jobRunId: RUN }]);
    expect(emrMock.commandCalls(GetJobRunCommand)).toHaveLength(4);
    expect(ctx.err.lines().map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''))).toEqual([
      `cancellation of job run ${RUN} requested`,
      `coattail-whale-detector ${RUN}: CANCELLING (attempt 2)`,
      `coattail-whale-detector ${RUN}: CANCELLING → CANCELLED (attempt 2)`,
      `job run ${RUN} ended CANCELLED`,
    ]);
  });

  it('does nothing for a run that has ended, and --no-wait returns once requested', async () => {
    emrMock.on(GetJobRunCommand).resolves(run('SUCCESS'));
    const ended = testContext({ cwd });
    expect(await jobsCancel({ ...FLAGS, runId: RUN }, ended, deps)).toBe(0);
    expect(ended.err.text()).toBe(`job run ${RUN} already ended SUCCESS: nothing to cancel\n`);
    expect(emrMock.commandCalls(CancelJobRunCommand)).toHaveLength(0);

    emrMock.reset();
    emrMock.on(GetJobRunCommand).resolves(run('RUNNING'));
    emrMock.on(CancelJobRunCommand).resolves({ applicationId: APP, jobRunId: RUN });
    expect(await jobsCancel({ ...FLAGS, runId: RUN, wait: false }, testContext({ cwd }), deps)).toBe(0);
    expect(emrMock.commandCalls(CancelJobRunCommand)).toHaveLength(1);
    expect(emrMock.commandCalls(GetJobRunCommand)).toHaveLength(1);
  });

  it('exits 1 when the run ended otherwise before the cancellation took', async () => {
    emrMock.on(GetJobRunCommand).resolvesOnce(run('RUNNING')).resolvesOnce(run('FAILED'));
    emrMock.on(CancelJobRunCommand).resolves({ applicationId: APP, jobRunId: RUN });
    expect(await jobsCancel({ ...FLAGS, runId: RUN }, testContext({ cwd }), deps)).toBe(1);
  });
});

describe('jobs logs', () => {
  it("prints the driver's stdout and stderr from the run's log location", async () => {
    emrMock.on(GetJobRunCommand).resolves(run('SUCCESS'));
    s3Mock
      .on(GetObjectCommand, { Bucket: 'my-coattail', Key: `${LOG_PREFIX}stdout.gz` })
      .resolves({ Body: body('{"event": "started"}\n') });
    s3Mock.on(GetObjectCommand, { Bucket: 'my-coattail', Key: `${LOG_PREFIX}stderr.gz` }).resolves({ Body: body('INFO a\nERROR b\n') });
    const ctx = testContext({ cwd });
    expect(await jobsLogs({ ...FLAGS, runId: RUN }, ctx, deps)).toBe(0);
    expect(ctx.out.text()).toBe('{"event": "started"}\nINFO a\nERROR b\n');
    expect(ctx.err.text()).toBe(`==> s3://my-coattail/${LOG_PREFIX}stdout.gz <==\n==> s3://my-coattail/${LOG_PREFIX}stderr.gz <==\n`);
  });

  it('--log stderr --tail N prints only the last lines; no header for one log', async () => {
    emrMock.on(GetJobRunCommand).resolves(run('FAILED'));
    s3Mock.on(GetObjectCommand).resolves({ Body: body('l1\nl2\nl3\nl4\n') });
    const ctx = testContext({ cwd });
    expect(await jobsLogs({ ...FLAGS, runId: RUN, log: 'stderr', tail: '2' }, ctx, deps)).toBe(0);
    expect(ctx.out.text()).toBe('l3\nl4\n');
    expect(ctx.err.text()).toBe('');
    expect(s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).toEqual([`${LOG_PREFIX}stderr.gz`]);
  });

  it('says so in one line when no log is in S3 yet', async () => {
    emrMock.on(GetJobRunCommand).resolves(run('PENDING'));
    s3Mock.on(GetObjectCommand).rejects(noSuchKey());
    const err = (await jobsLogs({ ...FLAGS, runId: RUN }, testContext({ cwd }), deps).catch((e: unknown) => e)) as CoattailError;
    expect(err.line()).toBe(
      `coattail: no driver logs for job run ${RUN} yet: nothing at s3://my-coattail/${LOG_PREFIX}stdout.gz (the run is PENDING). Logs reach S3 once the driver runs and then in batches: try again shortly, or use --follow`,
    );
  });

  it('--follow prints each new part once while the run runs, and stops when it ends', async () => {
    emrMock
      .on(GetJobRunCommand)
      .resolvesOnce(run('RUNNING'))
      .resolvesOnce(run('RUNNING'))
      .resolvesOnce(run('RUNNING'))
      .resolvesOnce(run('SUCCESS'));
    s3Mock
      .on(GetObjectCommand)
      .rejectsOnce(noSuchKey())
      .resolvesOnce({ Body: body('a\n') })
      .resolvesOnce({ Body: body('a\nb\n') })
      .resolvesOnce({ Body: body('a\nb\nc\n') });
    const ctx = testContext({ cwd });
    expect(await jobsLogs({ ...FLAGS, runId: RUN, log: 'stdout', follow: true }, ctx, deps)).toBe(0);
    expect(ctx.out.text()).toBe('a\nb\nc\n');
    expect(ctx.err.text()).toBe(`job run ${RUN} ended SUCCESS\n`);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(4);
  });

  it('--follow stops on Ctrl-C with 130, the run untouched', async () => {
    emrMock.on(GetJobRunCommand).resolves(run('RUNNING'));
    s3Mock.on(GetObjectCommand).resolves({ Body: body('x\n') });
    const ctx = testContext({ cwd });
    let sleeps = 0;
    const code = await jobsLogs({ ...FLAGS, runId: RUN, log: 'stdout', follow: true }, ctx, {
      ...deps,
      sleep: async () => void (++sleeps === 2 && ctx.abort.abort()),
    });
    expect(code).toBe(130);
    expect(ctx.out.text()).toBe('x\n');
    expect(emrMock.commandCalls(CancelJobRunCommand)).toHaveLength(0);
  });
});
