/**
 * A streaming job never gets a second run on its checkpoint: `jobs submit` refuses while the job's run is
 * active, and `--replace` cancels it, waits until it has ended, then starts the new run. At the SDK
 * boundary: which EMR Serverless calls are sent, and in which order.
 */
import { createHash } from 'node:crypto';
import {
  CancelJobRunCommand,
  GetJobRunCommand,
  ListJobRunsCommand,
  StartJobRunCommand,
  type JobRun,
  type JobRunSummary,
} from '@aws-sdk/client-emr-serverless';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { jobsSubmit, type SubmitOptions } from '../../../src/commands/jobs/submit.js';
import { CoattailError } from '../../../src/core/errors.js';
import { testContext } from '../../helpers/context.js';
import { APP, AWS_FLAGS, RUN, submitSetup } from '../../helpers/emr-submit.js';

const OLD = '00foldrun0001';
const STARTED = new Date('2026-03-01T08:00:00Z');

function summary(id: string, name: string, state: JobRunSummary['state']): JobRunSummary {
  return {
    applicationId: APP,
    id,
    name,
    arn: `arn:${id}`,
    createdBy: 'me',
    createdAt: STARTED,
    updatedAt: STARTED,
    executionRole: AWS_FLAGS.executionRoleArn,
    state,
    stateDetails: '',
    releaseLabel: 'emr-7.12.0',
  };
}

function jobRun(state: JobRun['state']): { jobRun: JobRun } {
  return {
    jobRun: {
      applicationId: APP,
      jobRunId: OLD,
      name: 'coattail-whale-detector',
      arn: 'arn',
      createdBy: 'me',
      createdAt: STARTED,
      updatedAt: STARTED,
      executionRole: AWS_FLAGS.executionRoleArn,
      state,
      stateDetails: '',
      releaseLabel: 'emr-7.12.0',
      jobDriver: { sparkSubmit: { entryPoint: 's3://my-coattail/coattail/bundles/x/emr_main.py' } },
    },
  };
}

const emrCallNames = (t: ReturnType<typeof submitSetup>): string[] => t.emrMock.calls().map((c) => c.args[0].constructor.name);

async function failure(p: Promise<unknown>): Promise<CoattailError> {
  const err = await p.catch((e: unknown) => e);
  if (!(err instanceof CoattailError)) throw new Error(`expected a CoattailError, got ${String(err)}`);
  return err;
}

describe('jobs submit: one streaming run per job', () => {
  let t: ReturnType<typeof submitSetup>;
  beforeEach(() => {
    t = submitSetup();
    t.s3Mock.on(HeadObjectCommand).resolves({});
    t.emrMock.on(StartJobRunCommand).resolves({ applicationId: APP, jobRunId: RUN, arn: 'arn' });
  });
  const submit = (opts: Partial<SubmitOptions>, ctx = testContext({ cwd: t.cwd })): Promise<number> =>
    jobsSubmit({ job: 'whale-detector', ...AWS_FLAGS, ...opts } as SubmitOptions, ctx, t.deps);

  it('refuses while the job runs: one line naming the run, its state and since when; exit 2; nothing uploaded or started', async () => {
    t.emrMock.on(ListJobRunsCommand).resolves({ jobRuns: [summary(OLD, 'coattail-whale-detector', 'RUNNING')] });
    t.s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    const err = await failure(submit({}));
    expect(err.exitCode).toBe(2);
    expect(err.line()).toBe(
      `coattail: whale-detector is already running on this application: job run ${OLD} (RUNNING since 2026-03-01T08:00:00.000Z): ` +
        `a second run would share its checkpoint. Replace it with --replace (cancels it, waits until it has ended, then starts the new run), ` +
        `or stop it with 'coattail jobs cancel ${OLD}'`,
    );
    expect(emrCallNames(t)).toEqual(['ListJobRunsCommand']);
    // Asked for the states of a run that holds the checkpoint, on this application.
    expect(t.emrMock.commandCalls(ListJobRunsCommand)[0]!.args[0].input).toMatchObject({
      applicationId: APP,
      states: ['SUBMITTED', 'PENDING', 'SCHEDULED', 'QUEUED', 'RUNNING', 'CANCELLING'],
    });
    expect(t.s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('a run of the job under a --run-name counts; runs of other jobs and of other tools do not', async () => {
    t.emrMock.on(ListJobRunsCommand).resolves({
      jobRuns: [summary('00fother', 'coattail-volume-anomaly', 'RUNNING'), summary('00fnotours', 'nightly-etl', 'RUNNING')],
    });
    expect(await submit({})).toBe(0);
    expect(emrCallNames(t)).toEqual(['ListJobRunsCommand', 'StartJobRunCommand']);

    t.emrMock.reset();
    t.emrMock.on(ListJobRunsCommand).resolves({ jobRuns: [summary(OLD, 'coattail-whale-detector-hotfix', 'PENDING')] });
    expect((await failure(submit({}))).line()).toContain(`job run ${OLD} (PENDING since`);
  });

  it('--replace: CancelJobRun, then GetJobRun until CANCELLED, then StartJobRun with a token that names the replaced run', async () => {
    t.emrMock.on(ListJobRunsCommand).resolves({ jobRuns: [summary(OLD, 'coattail-whale-detector', 'RUNNING')] });
    t.emrMock.on(CancelJobRunCommand).resolves({ applicationId: APP, jobRunId: OLD });
    t.emrMock.on(GetJobRunCommand).resolvesOnce(jobRun('CANCELLING')).resolvesOnce(jobRun('CANCELLING')).resolves(jobRun('CANCELLED'));
    expect(await submit({ replace: true })).toBe(0);
    expect(emrCallNames(t)).toEqual([
      'ListJobRunsCommand',
      'CancelJobRunCommand',
      'GetJobRunCommand',
      'GetJobRunCommand',
      'GetJobRunCommand',
      'StartJobRunCommand',
    ]);
    expect(t.emrMock.commandCalls(CancelJobRunCommand)[0]!.args[0].input).toEqual({ applicationId: APP, jobRunId: OLD });
    const input = t.emrMock.commandCalls(StartJobRunCommand)[0]!.args[0].input;
    // Same name, same checkpoint arguments as any run of the job: the new run takes the checkpoint over.
    expect(input.name).toBe('coattail-whale-detector');
    expect(input.jobDriver?.sparkSubmit?.entryPointArguments).toContain('s3://my-coattail/coattail/checkpoints');
    // A token of its own, or EMR Serverless would answer the same command with the run just cancelled.
    const bundleHash = input.tags!['coattail:bundle']!;
    const args = input.jobDriver!.sparkSubmit!.entryPointArguments!;
    const expected = createHash('sha256')
      .update(JSON.stringify([APP, 'whale-detector', bundleHash, null, args, null, { spark: [], replaces: [OLD] }]))
      .digest('hex');
    expect(input.clientToken).toBe(expected);
  });

  it('--replace with a run already CANCELLING waits for it without cancelling it again', async () => {
    t.emrMock.on(ListJobRunsCommand).resolves({ jobRuns: [summary(OLD, 'coattail-whale-detector', 'CANCELLING')] });
    t.emrMock.on(GetJobRunCommand).resolvesOnce(jobRun('CANCELLING')).resolves(jobRun('FAILED'));
    expect(await submit({ replace: true })).toBe(0);
    expect(emrCallNames(t)).toEqual(['ListJobRunsCommand', 'GetJobRunCommand', 'GetJobRunCommand', 'StartJobRunCommand']);
  });

  it('--replace gives up after --replace-timeout-minutes with one line, and starts nothing', async () => {
    t.emrMock.on(ListJobRunsCommand).resolves({ jobRuns: [summary(OLD, 'coattail-whale-detector', 'RUNNING')] });
    t.emrMock.on(CancelJobRunCommand).resolves({ applicationId: APP, jobRunId: OLD });
    t.emrMock.on(GetJobRunCommand).resolves(jobRun('CANCELLING'));
    // A clock that moves only when the poll sleeps: 20 s a poll, so the minute is up after three sleeps.
    let now = 0;
    const ctx = testContext({ cwd: t.cwd, clock: { now: () => now } });
    const deps = { ...t.deps, pollMs: 20_000, sleep: async (ms: number) => void (now += ms) };
    const err = await failure(
      jobsSubmit({ job: 'whale-detector', ...AWS_FLAGS, replace: true, replaceTimeoutMinutes: '1' } as SubmitOptions, ctx, deps),
    );
    expect(err.exitCode).toBe(1);
    expect(err.line()).toBe(
      `coattail: job run ${OLD} is still CANCELLING after 1 minutes: the new run was not started, so that two runs never share the checkpoint. ` +
        `Follow it with 'coattail jobs status ${OLD}', then submit again (or raise --replace-timeout-minutes)`,
    );
    expect(t.emrMock.commandCalls(GetJobRunCommand)).toHaveLength(4);
    expect(t.emrMock.commandCalls(StartJobRunCommand)).toHaveLength(0);
  });

  it('batch jobs are not looked up (no checkpoint to share) and refuse --replace', async () => {
    t.emrMock.on(ListJobRunsCommand).resolves({ jobRuns: [summary(OLD, 'coattail-historical-loader', 'RUNNING')] });
    expect(await submit({ job: 'historical-loader', args: ['--symbol', 'BTC-USDT'] })).toBe(0);
    expect(emrCallNames(t)).toEqual(['StartJobRunCommand']);
    const err = await failure(submit({ job: 'historical-loader', replace: true }));
    expect(err.exitCode).toBe(2);
    expect(err.line()).toContain('--replace does not apply to historical-loader');
  });
});
