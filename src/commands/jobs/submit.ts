/**
 * `coattail jobs submit <job> [-- job arguments]`: the job on EMR Serverless (src/spark/emr/submit.ts), or
 * with `--local` the same job, bundle and entry script with spark-submit on local Spark
 * (src/spark/local-submit.ts).
 */
import type { CommandContext } from '../../core/context.js';
import { usageError } from '../../core/errors.js';
import type { JobsDeps } from '../../spark/emr/settings.js';
import { submitToEmr, type EmrSubmitOptions } from '../../spark/emr/submit.js';
import { checkJob, jobMode, type JobName } from '../../spark/jobs.js';
import { submitLocal, type LocalOptions } from '../../spark/local-submit.js';

export interface SubmitOptions extends EmrSubmitOptions, LocalOptions {
  job: string;
  /** Arguments after `--`. */
  args?: string[];
  set?: string[];
  local?: boolean;
}

/** The options that shape an EMR Serverless run only. */
const EMR_ONLY: ReadonlyArray<readonly [keyof SubmitOptions, string]> = [
  ['conf', '--conf'],
  ['driverCores', '--driver-cores'],
  ['driverMemory', '--driver-memory'],
  ['executorCores', '--executor-cores'],
  ['executorMemory', '--executor-memory'],
  ['executors', '--executors'],
  ['maxExecutors', '--max-executors'],
  ['replace', '--replace'],
];

const SETTING = /^[A-Za-z_][A-Za-z0-9_]*(:[A-Za-z_][A-Za-z0-9_]*)?=/;

export function checkSettings(job: JobName, sets: readonly string[]): string[] {
  if (sets.length > 0 && jobMode(job) === 'BATCH') {
    throw usageError(
      `--set does not apply to ${job}`,
      'batch jobs take their own arguments',
      `pass them after --, e.g. coattail jobs submit ${job} -- --help`,
    );
  }
  for (const s of sets) {
    if (!SETTING.test(s))
      throw usageError(
        `--set '${s}' is not NAME=VALUE`,
        'a setting names a job setting and its value',
        'write it like --set threshold=3.0',
      );
  }
  return [...sets];
}

export async function jobsSubmit(opts: SubmitOptions, ctx: CommandContext, deps: JobsDeps = {}): Promise<number> {
  const job = checkJob(opts.job);
  const sets = checkSettings(job, opts.set ?? []);
  const passthrough = opts.args ?? [];
  if (opts.local) {
    // Said, not refused: the variables of an EMR deployment may well be set in the shell that runs --local.
    const emrOnly = EMR_ONLY.filter(([key]) => {
      const v = opts[key];
      return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== false;
    }).map(([, flag]) => flag);
    if (emrOnly.length > 0) ctx.logger.warn(`${emrOnly.join(', ')}: for runs on EMR Serverless; local Spark ignores them`);
    return submitLocal(job, sets, passthrough, opts, ctx, deps);
  }
  return submitToEmr(job, sets, passthrough, opts, ctx, deps);
}
