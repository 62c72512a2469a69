/**
 * One streaming run per job: a second run of the same streaming job would read the same stream into the
 * same checkpoint as the first, and the two would fight over it. Before a streaming job starts, the job's
 * active runs are looked up; `jobs submit` refuses while one is there, or with `--replace` cancels it and
 * waits until it has really ended, so the new run takes the checkpoint over from a stopped writer.
 */
import type { EMRServerlessClient, JobRunState, JobRunSummary } from '@aws-sdk/client-emr-serverless';
import type { CommandContext } from '../../core/context.js';
import { CoattailError, usageError } from '../../core/errors.js';
import type { JobName } from '../jobs.js';
import { cancelRun, getRun, isTerminal, listRuns } from './runs.js';
import { sleep as realSleep, type Sleep } from './sleep.js';
import { EXIT_INTERRUPTED } from './wait.js';

/** The states of a run that holds (or is about to hold, or still holds) the job's checkpoint. */
export const ACTIVE_STATES: readonly JobRunState[] = ['SUBMITTED', 'PENDING', 'SCHEDULED', 'QUEUED', 'RUNNING', 'CANCELLING'];
export const DEFAULT_REPLACE_TIMEOUT_MINUTES = 15;
export const DEFAULT_REPLACE_POLL_MS = 5_000;

/** What is needed to look for, and end, the runs a new run would replace. */
export interface ReplaceContext {
  emr: EMRServerlessClient;
  applicationId: string;
  job: JobName;
  ctx: CommandContext;
  sleep?: Sleep | undefined;
  pollMs?: number | undefined;
}

/** The job's runs that are not over yet, newest first (ListJobRuns with the states filter, matched by run name). */
export async function activeRuns(r: ReplaceContext): Promise<JobRunSummary[]> {
  return listRuns(r.emr, r.applicationId, { states: [...ACTIVE_STATES], job: r.job, limit: 50 }, r.ctx.env);
}

function describe(run: JobRunSummary): string {
  const since = run.createdAt ? ` since ${run.createdAt.toISOString()}` : '';
  return `${run.id ?? '?'} (${run.state ?? 'UNKNOWN'}${since})`;
}

/** Without `--replace`: a usage error naming the runs in the way. */
export function refusal(job: JobName, runs: readonly JobRunSummary[]): CoattailError {
  const which = runs.map(describe).join(', ');
  return usageError(
    `${job} is already running on this application: job run ${which}`,
    'a second run would share its checkpoint',
    `replace it with --replace (cancels it, waits until it has ended, then starts the new run), or stop it with 'coattail jobs cancel ${runs[0]?.id ?? ''}'`,
  );
}

/**
 * `--replace`: cancels each run (one already CANCELLING is left to finish), then polls each until it has
 * ended (CANCELLED, FAILED or SUCCESS). Gives up after `timeoutMinutes` with one line; Ctrl-C stops waiting
 * without starting anything.
 */
export async function replaceRuns(r: ReplaceContext, runs: readonly JobRunSummary[], timeoutMinutes: number): Promise<void> {
  const { ctx } = r;
  const sleep = r.sleep ?? realSleep;
  const pollMs = r.pollMs ?? DEFAULT_REPLACE_POLL_MS;
  for (const run of runs) {
    if (run.state === 'CANCELLING') continue;
    ctx.logger.info(`--replace: cancelling job run ${describe(run)}`);
    await cancelRun(r.emr, r.applicationId, run.id!, ctx.env);
  }
  const deadline = ctx.clock.now() + timeoutMinutes * 60_000;
  for (const run of runs) {
    for (;;) {
      const now = await getRun(r.emr, r.applicationId, run.id!, ctx.env);
      if (isTerminal(now.state)) {
        ctx.logger.info(`--replace: job run ${run.id} ended ${now.state}`);
        break;
      }
      if (ctx.signal.aborted)
        throw new CoattailError(
          `stopped waiting for job run ${run.id} to end`,
          'interrupted; the new run was not started',
          `follow it with 'coattail jobs status ${run.id}' and submit again once it has ended`,
          EXIT_INTERRUPTED,
        );
      if (ctx.clock.now() >= deadline)
        throw new CoattailError(
          `job run ${run.id} is still ${now.state ?? 'not ended'} after ${timeoutMinutes} minutes`,
          'the new run was not started, so that two runs never share the checkpoint',
          `follow it with 'coattail jobs status ${run.id}', then submit again (or raise --replace-timeout-minutes)`,
        );
      await sleep(pollMs, ctx.signal);
    }
  }
}

/** Before a streaming job starts: nothing in the way, or refused, or (with `replace`) the old runs ended. */
export async function makeWayForRun(r: ReplaceContext, replace: boolean, timeoutMinutes: number): Promise<void> {
  const runs = await activeRuns(r);
  if (runs.length === 0) return;
  if (!replace) throw refusal(r.job, runs);
  await replaceRuns(r, runs, timeoutMinutes);
}
