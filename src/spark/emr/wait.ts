/**
 * Following a job run to its end for `jobs submit --wait` and `jobs cancel`: state transitions as lines
 * on stderr (under them a spinner with the state and the time spent on a terminal, a line a minute
 * elsewhere), the Spark UI's URL once the run runs, and on FAILED the state details and the tail of the
 * driver's stderr. Ctrl-C stops following and leaves the run going,
 * unless `--cancel-on-interrupt`, which cancels it and waits for the cancellation.
 */
import type { EMRServerlessClient, JobRun } from '@aws-sdk/client-emr-serverless';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CommandContext } from '../../core/context.js';
import { CoattailError } from '../../core/errors.js';
import { driverLogLocation, lastLines, logUri, readDriverLog } from './logs.js';
import { startTask, type Task } from '../../core/progress.js';
import { cancelRun, dashboardUrl, followRun } from './runs.js';
import { sleep as realSleep } from './sleep.js';
import type { JobsDeps } from './settings.js';

export const EXIT_SUCCESS = 0;
export const EXIT_FAILED = 1;
export const EXIT_CANCELLED = 3;
export const EXIT_INTERRUPTED = 130;
export const DEFAULT_POLL_MS = 5_000;
export const FAILURE_TAIL_LINES = 40;
/** Off a terminal, a line saying the state and the time spent at most once a minute: a heartbeat in CI logs. */
export const PLAIN_STATE_EVERY_MS = 60_000;

/** Where a run's transitions go (lines, at any log level) with the spinner (state + elapsed) under them. */
export function runProgress(ctx: CommandContext, text: string): Task {
  return startTask(ctx, text, { rawLines: true, plainEveryMs: PLAIN_STATE_EVERY_MS });
}

export function exitCodeOf(state: string | undefined): number {
  if (state === 'SUCCESS') return EXIT_SUCCESS;
  if (state === 'CANCELLED') return EXIT_CANCELLED;
  return EXIT_FAILED;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function elapsed(sinceMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - sinceMs) / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export interface WaitContext {
  emr: EMRServerlessClient;
  s3: S3Client;
  applicationId: string;
  jobRunId: string;
  label: string;
  ctx: CommandContext;
  deps: JobsDeps;
  /** Print the Spark UI's URL once the run runs (default true). */
  dashboard?: boolean;
}

/** Follows the run until a terminal state; prints transitions; returns the final run, or undefined when interrupted. */
export async function watchRun(w: WaitContext, progress: Task, signal: AbortSignal | undefined): Promise<JobRun | undefined> {
  const { ctx } = w;
  const started = ctx.clock.now();
  let previous: string | undefined;
  let dashboardShown = w.dashboard === false;
  return followRun(w.emr, w.applicationId, w.jobRunId, ctx.env, {
    intervalMs: w.deps.pollMs ?? DEFAULT_POLL_MS,
    sleep: w.deps.sleep ?? realSleep,
    signal,
    onPoll: async (run, changed) => {
      const state = run.state ?? 'UNKNOWN';
      const attempt = run.attempt && run.attempt > 1 ? ` (attempt ${run.attempt})` : '';
      if (changed) {
        progress.line(`${clock(ctx.clock.now())} ${w.label} ${w.jobRunId}: ${previous ? `${previous} → ` : ''}${state}${attempt}`);
        previous = state;
      }
      if (!dashboardShown && (state === 'RUNNING' || state === 'SUCCESS' || state === 'FAILED')) {
        dashboardShown = true;
        const url = await dashboardUrl(w.emr, w.applicationId, w.jobRunId, ctx.env).catch((err: unknown) => {
          // The run matters more than its UI: say why there is no URL and keep following.
          progress.line(`Spark UI unavailable: ${err instanceof CoattailError ? err.why : String(err)}`);
          return undefined;
        });
        if (url) progress.line(`Spark UI: ${url}`);
      }
      progress.update(`${w.label} ${w.jobRunId} ${state}${attempt} ${elapsed(started, ctx.clock.now())}`);
    },
  });
}

/** What a FAILED run said: its state details and the last lines of the driver's stderr. */
export async function reportFailure(w: WaitContext, run: JobRun, progress: Task): Promise<void> {
  progress.line(`${w.label} ${w.jobRunId} FAILED: ${run.stateDetails || 'no state details given'}`);
  const loc = driverLogLocation(run);
  const text = await readDriverLog(w.s3, loc, 'stderr', w.ctx.env);
  if (text === undefined || text.length === 0) {
    progress.line(`the driver's stderr is not in S3 (yet): ${logUri(loc, 'stderr')}`);
    return;
  }
  progress.line(`last ${FAILURE_TAIL_LINES} lines of the driver's stderr (${logUri(loc, 'stderr')}):`);
  progress.line(lastLines(text, FAILURE_TAIL_LINES).replace(/\n$/, ''));
}

export interface WaitOutcome {
  code: number;
  run?: JobRun | undefined;
}

/** `--wait`: follow to the end; the exit code tells the outcome (0 SUCCESS, 1 FAILED, 3 CANCELLED, 130 interrupted). */
export async function waitForOutcome(w: WaitContext, cancelOnInterrupt: boolean): Promise<WaitOutcome> {
  const progress = runProgress(w.ctx, `${w.label} ${w.jobRunId} submitted`);
  try {
    const run = await watchRun(w, progress, w.ctx.signal);
    if (run) {
      if (run.state === 'FAILED') await reportFailure(w, run, progress);
      else progress.line(`${w.label} ${w.jobRunId} ended ${run.state}`);
      return { code: exitCodeOf(run.state), run };
    }
    if (!cancelOnInterrupt) {
      progress.line(
        `stopped waiting; job run ${w.jobRunId} goes on. Follow it with 'coattail jobs status ${w.jobRunId}', stop it with 'coattail jobs cancel ${w.jobRunId}'`,
      );
      return { code: EXIT_INTERRUPTED };
    }
    progress.line(`cancelling job run ${w.jobRunId} (--cancel-on-interrupt); Ctrl-C again to stop waiting`);
    await cancelRun(w.emr, w.applicationId, w.jobRunId, w.ctx.env);
    // The first signal has already aborted ctx.signal; a second one ends the process (runCommand).
    const ended = await watchRun(w, progress, undefined);
    progress.line(`${w.label} ${w.jobRunId} ended ${ended?.state ?? 'unknown'}`);
    return { code: EXIT_INTERRUPTED, run: ended };
  } finally {
    progress.stop();
  }
}
