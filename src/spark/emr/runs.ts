/** Job runs on EMR Serverless: read one, list them, cancel one, and follow one's states to the end. */
import {
  CancelJobRunCommand,
  GetDashboardForJobRunCommand,
  GetJobRunCommand,
  ListJobRunsCommand,
  type EMRServerlessClient,
  type JobRun,
  type JobRunState,
  type JobRunSummary,
} from '@aws-sdk/client-emr-serverless';
import { usageError } from '../../core/errors.js';
import { awsFailure } from '../../aws/errors.js';
import { jobOfRunName } from '../jobs.js';
import type { Sleep } from './sleep.js';

export const RUN_STATES = [
  'SUBMITTED',
  'PENDING',
  'SCHEDULED',
  'QUEUED',
  'RUNNING',
  'SUCCESS',
  'FAILED',
  'CANCELLING',
  'CANCELLED',
] as const;
export const TERMINAL_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILED', 'CANCELLED']);

export function isTerminal(state: string | undefined): boolean {
  return state !== undefined && TERMINAL_STATES.has(state);
}

export async function getRun(emr: EMRServerlessClient, applicationId: string, jobRunId: string, env: NodeJS.ProcessEnv): Promise<JobRun> {
  try {
    const out = await emr.send(new GetJobRunCommand({ applicationId, jobRunId }));
    if (!out.jobRun) throw new Error('GetJobRun answered without a job run');
    return out.jobRun;
  } catch (err) {
    throw awsFailure(err, `cannot read job run ${jobRunId}`, env);
  }
}

export function parseStates(text: string | undefined): JobRunState[] | undefined {
  if (!text) return undefined;
  const states = text
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s.length > 0);
  for (const s of states) {
    if (!(RUN_STATES as readonly string[]).includes(s))
      throw usageError(
        `--state ${s} is not a job run state`,
        `the states are ${RUN_STATES.join(', ')}`,
        'pass one or more, comma-separated, e.g. --state RUNNING,FAILED',
      );
  }
  return states as JobRunState[];
}

export interface ListFilter {
  states?: JobRunState[] | undefined;
  /** Only runs of this job (by the run name submit gives). */
  job?: string | undefined;
  limit: number;
}

/** The newest runs first (the API's order), up to `limit`, paging as needed. */
export async function listRuns(
  emr: EMRServerlessClient,
  applicationId: string,
  filter: ListFilter,
  env: NodeJS.ProcessEnv,
): Promise<JobRunSummary[]> {
  const runs: JobRunSummary[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await emr.send(
        new ListJobRunsCommand({
          applicationId,
          maxResults: 50,
          ...(filter.states ? { states: filter.states } : {}),
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      for (const run of page.jobRuns ?? []) {
        if (filter.job && jobOfRunName(run.name) !== filter.job) continue;
        runs.push(run);
        if (runs.length >= filter.limit) return runs;
      }
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (err) {
    throw awsFailure(err, `cannot list the job runs of application ${applicationId}`, env);
  }
  return runs;
}

export async function cancelRun(emr: EMRServerlessClient, applicationId: string, jobRunId: string, env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await emr.send(new CancelJobRunCommand({ applicationId, jobRunId }));
  } catch (err) {
    throw awsFailure(err, `cannot cancel job run ${jobRunId}`, env);
  }
}

/** The Spark UI of a run (a URL valid for an hour). */
export async function dashboardUrl(
  emr: EMRServerlessClient,
  applicationId: string,
  jobRunId: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  try {
    return (await emr.send(new GetDashboardForJobRunCommand({ applicationId, jobRunId }))).url;
  } catch (err) {
    throw awsFailure(err, `cannot get the Spark UI of job run ${jobRunId}`, env);
  }
}

export interface FollowOptions {
  intervalMs: number;
  sleep: Sleep;
  /** Stops following (the run goes on) when it aborts. */
  signal?: AbortSignal | undefined;
  /** Called on every poll; `changed` when the state or the attempt differs from the last poll. */
  onPoll(run: JobRun, changed: boolean): void | Promise<void>;
}

/** Polls until the run reaches a terminal state (returned), or the signal aborts (undefined). */
export async function followRun(
  emr: EMRServerlessClient,
  applicationId: string,
  jobRunId: string,
  env: NodeJS.ProcessEnv,
  opts: FollowOptions,
): Promise<JobRun | undefined> {
  let last = '';
  for (;;) {
    if (opts.signal?.aborted) return undefined;
    const run = await getRun(emr, applicationId, jobRunId, env);
    const key = `${run.state}#${run.attempt ?? 1}`;
    await opts.onPoll(run, key !== last);
    last = key;
    if (isTerminal(run.state)) return run;
    await opts.sleep(opts.intervalMs, opts.signal);
  }
}
