/** The jobs `coattail jobs submit` runs, and how EMR Serverless runs each: streaming or batch. */
import { usageError } from '../core/errors.js';

export const STREAMING_JOBS = ['raw-archiver', 'volume-anomaly', 'whale-detector', 'spread-calculator'] as const;
/** Written in jobs-py by their own module; submit passes their arguments (after `--`) through unchanged. */
export const BATCH_JOBS = ['historical-loader', 'reprocess-anomalies', 'schema-evolution-demo'] as const;
export const JOBS = [...STREAMING_JOBS, ...BATCH_JOBS] as const;

export type JobName = (typeof JOBS)[number];
export type JobMode = 'STREAMING' | 'BATCH';

export function checkJob(job: string): JobName {
  if (!(JOBS as readonly string[]).includes(job)) {
    throw usageError(
      `unknown job '${job}'`,
      `the jobs are ${JOBS.join(', ')}`,
      'pass one of them, e.g. coattail jobs submit whale-detector',
    );
  }
  return job as JobName;
}

export function jobMode(job: JobName): JobMode {
  return (STREAMING_JOBS as readonly string[]).includes(job) ? 'STREAMING' : 'BATCH';
}

/** The run's name on EMR Serverless: how `jobs list --job` finds a job's runs. */
export function runName(job: JobName, nonce?: string): string {
  return nonce ? `coattail-${job}-${nonce}` : `coattail-${job}`;
}

/** The job a run name belongs to, if it is one of ours. */
export function jobOfRunName(name: string | undefined): JobName | undefined {
  if (!name?.startsWith('coattail-')) return undefined;
  const rest = name.slice('coattail-'.length);
  return JOBS.find((j) => rest === j || rest.startsWith(`${j}-`));
}
