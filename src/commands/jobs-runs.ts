/** `coattail jobs list`, `jobs status <run>` and `jobs cancel <run>`: the job runs of the application. */
import type { CommandContext } from '../core/context.js';
import { checkRunId, positiveInt } from '../config/validate.js';
import { checkJob } from '../emr/jobs.js';
import { driverLogLocation } from '../emr/logs.js';
import { Progress } from '../emr/progress.js';
import { runJson, runsTable, runTable } from '../emr/format.js';
import { cancelRun, getRun, isTerminal, listRuns, parseStates } from '../emr/runs.js';
import { emrClient, resolveEmrSettings, s3Client, type EmrOptions, type JobsDeps } from './jobs-settings.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_SUCCESS, watchRun } from './jobs-wait.js';

export interface ListOptions extends EmrOptions {
  state?: string;
  job?: string;
  limit?: string;
}

export async function jobsList(opts: ListOptions, ctx: CommandContext, deps: JobsDeps = {}): Promise<number> {
  const settings = resolveEmrSettings(opts, ctx);
  const states = parseStates(opts.state);
  const job = opts.job === undefined ? undefined : checkJob(opts.job);
  const limit = positiveInt(opts.limit ?? '20', '--limit', 1000);
  const runs = await listRuns(emrClient(deps, settings.region, ctx), settings.applicationId, { states, job, limit }, ctx.env);
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(runs.map(runJson))}\n`);
    return 0;
  }
  if (runs.length === 0) {
    ctx.stderr.write(`no job runs${states ? ` in state ${states.join(' or ')}` : ''}${job ? ` of ${job}` : ''} on application ${settings.applicationId}\n`);
    return 0;
  }
  ctx.stdout.write(runsTable(runs));
  return 0;
}

export interface RunOptions extends EmrOptions {
  runId?: string;
  wait?: boolean;
}

function logLocation(run: Parameters<typeof driverLogLocation>[0]): string | undefined {
  try {
    const loc = driverLogLocation(run);
    return `s3://${loc.bucket}/${loc.prefix}`;
  } catch {
    return undefined; // a run without an S3 log location shows an empty "Logs" row
  }
}

export async function jobsStatus(opts: RunOptions, ctx: CommandContext, deps: JobsDeps = {}): Promise<number> {
  const settings = resolveEmrSettings(opts, ctx);
  const runId = checkRunId(opts.runId ?? '');
  const run = await getRun(emrClient(deps, settings.region, ctx), settings.applicationId, runId, ctx.env);
  if (opts.json) ctx.stdout.write(`${JSON.stringify({ ...runJson(run), releaseLabel: run.releaseLabel ?? null, logs: logLocation(run) ?? null, durationSeconds: run.totalExecutionDurationSeconds ?? null })}\n`);
  else ctx.stdout.write(runTable(run, logLocation(run)));
  return 0;
}

/** Cancels the run and (unless --no-wait) waits until it ends: 0 once CANCELLED (or when it had already ended), 1 when it ended otherwise before the cancellation took. */
export async function jobsCancel(opts: RunOptions, ctx: CommandContext, deps: JobsDeps = {}): Promise<number> {
  const settings = resolveEmrSettings(opts, ctx);
  const runId = checkRunId(opts.runId ?? '');
  const emr = emrClient(deps, settings.region, ctx);
  const before = await getRun(emr, settings.applicationId, runId, ctx.env);
  if (isTerminal(before.state)) {
    ctx.stderr.write(`job run ${runId} already ended ${before.state}: nothing to cancel\n`);
    return EXIT_SUCCESS;
  }
  await cancelRun(emr, settings.applicationId, runId, ctx.env);
  ctx.stderr.write(`cancellation of job run ${runId} requested\n`);
  if (opts.wait === false) return EXIT_SUCCESS;
  const progress = new Progress(ctx.stderr);
  try {
    const run = await watchRun({ emr, s3: s3Client(deps, settings.region, ctx), applicationId: settings.applicationId, jobRunId: runId, label: before.name ?? 'job run', ctx, deps, dashboard: false }, progress, ctx.signal);
    if (!run) {
      progress.line(`stopped waiting; job run ${runId} is still being cancelled`);
      return EXIT_INTERRUPTED;
    }
    progress.line(`job run ${runId} ended ${run.state}`);
    return run.state === 'CANCELLED' ? EXIT_SUCCESS : EXIT_FAILED;
  } finally {
    progress.stop();
  }
}
