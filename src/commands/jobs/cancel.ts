/** `coattail jobs cancel <run>`: cancels a job run and follows it to its end. */
import type { CommandContext } from '../../core/context.js';
import { checkRunId } from '../../config/validate.js';
import { cancelRun, getRun, isTerminal } from '../../spark/emr/runs.js';
import { emrClient, resolveEmrSettings, s3Client, type JobsDeps, type RunOptions } from '../../spark/emr/settings.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_SUCCESS, runProgress, watchRun } from '../../spark/emr/wait.js';

/** Cancels the run and (unless --no-wait) waits until it ends: 0 once CANCELLED (or when it had already ended), 1 when it ended otherwise before the cancellation took. */
export async function jobsCancel(opts: RunOptions, ctx: CommandContext, deps: JobsDeps = {}): Promise<number> {
  const settings = await resolveEmrSettings(opts, ctx);
  const runId = checkRunId(opts.runId ?? '');
  const emr = emrClient(deps, settings, ctx);
  const before = await getRun(emr, settings.applicationId, runId, ctx.env);
  if (isTerminal(before.state)) {
    ctx.stderr.write(`job run ${runId} already ended ${before.state}: nothing to cancel\n`);
    return EXIT_SUCCESS;
  }
  await cancelRun(emr, settings.applicationId, runId, ctx.env);
  ctx.stderr.write(`cancellation of job run ${runId} requested\n`);
  if (opts.wait === false) return EXIT_SUCCESS;
  const progress = runProgress(ctx, `waiting for job run ${runId} to end`);
  try {
    const run = await watchRun(
      {
        emr,
        s3: s3Client(deps, settings, ctx),
        applicationId: settings.applicationId,
        jobRunId: runId,
        label: before.name ?? 'job run',
        ctx,
        deps,
        dashboard: false,
      },
      progress,
      ctx.signal,
    );
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
