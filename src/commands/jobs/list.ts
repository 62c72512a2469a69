/** `coattail jobs list`: the job runs of the application, newest first. */
import type { CommandContext } from '../../core/context.js';
import { positiveInt } from '../../config/validate.js';
import { checkJob } from '../../spark/jobs.js';
import { runJson, runsTable } from '../../spark/emr/format.js';
import { listRuns, parseStates } from '../../spark/emr/runs.js';
import { emrClient, resolveEmrSettings, type EmrOptions, type JobsDeps } from '../../spark/emr/settings.js';

export interface ListOptions extends EmrOptions {
  state?: string;
  job?: string;
  limit?: string;
}

export async function jobsList(opts: ListOptions, ctx: CommandContext, deps: JobsDeps = {}): Promise<number> {
  const settings = await resolveEmrSettings(opts, ctx);
  const states = parseStates(opts.state);
  const job = opts.job === undefined ? undefined : checkJob(opts.job);
  const limit = positiveInt(opts.limit ?? '20', '--limit', 1000);
  const runs = await listRuns(emrClient(deps, settings, ctx), settings.applicationId, { states, job, limit }, ctx.env);
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(runs.map(runJson))}\n`);
    return 0;
  }
  if (runs.length === 0) {
    ctx.stderr.write(
      `no job runs${states ? ` in state ${states.join(' or ')}` : ''}${job ? ` of ${job}` : ''} on application ${settings.applicationId}\n`,
    );
    return 0;
  }
  ctx.stdout.write(runsTable(runs));
  return 0;
}
