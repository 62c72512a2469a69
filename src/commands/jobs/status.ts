/** `coattail jobs status <run>`: one job run, with where its driver logs are. */
import type { CommandContext } from '../../core/context.js';
import { checkRunId } from '../../config/validate.js';
import { driverLogLocation } from '../../spark/emr/logs.js';
import { runJson, runTable } from '../../spark/emr/format.js';
import { getRun } from '../../spark/emr/runs.js';
import { emrClient, resolveEmrSettings, type JobsDeps, type RunOptions } from '../../spark/emr/settings.js';

function logLocation(run: Parameters<typeof driverLogLocation>[0]): string | undefined {
  try {
    const loc = driverLogLocation(run);
    return `s3://${loc.bucket}/${loc.prefix}`;
  } catch {
    return undefined; // a run without an S3 log location shows an empty "Logs" row
  }
}

export async function jobsStatus(opts: RunOptions, ctx: CommandContext, deps: JobsDeps = {}): Promise<number> {
  const settings = await resolveEmrSettings(opts, ctx);
  const runId = checkRunId(opts.runId ?? '');
  const run = await getRun(emrClient(deps, settings, ctx), settings.applicationId, runId, ctx.env);
  if (opts.json)
    ctx.stdout.write(
      `${JSON.stringify({ ...runJson(run), releaseLabel: run.releaseLabel ?? null, logs: logLocation(run) ?? null, durationSeconds: run.totalExecutionDurationSeconds ?? null })}\n`,
    );
  else ctx.stdout.write(runTable(run, logLocation(run)));
  return 0;
}
