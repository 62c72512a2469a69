/**
 * The jobs, as the PySpark package's catalogue describes them (`python -m coattail_jobs catalog --json`,
 * rendered into jobs-catalog.json by `make catalog`; a test fails while the two differ): their names, kind
 * (streaming or batch: how EMR Serverless runs each), Kinesis queries, tables and settings.
 */
import { z } from 'zod';
import { usageError } from '../core/errors.js';
import catalogJson from './jobs-catalog.json' with { type: 'json' };

const SettingSchema = z.looseObject({ key: z.string(), aliases: z.array(z.string()).default([]) });
const JobSchema = z.looseObject({
  name: z.string().regex(/^[a-z][a-z-]*$/),
  kind: z.enum(['streaming', 'batch']),
  /** A streaming job's Kinesis queries, as its checkpoint folders are named: `<checkpoint root>/<job>/<query>`. */
  queries: z.array(z.string()),
  /** Queries that read a table of the job's as a stream instead of Kinesis: query → table. */
  iceberg_queries: z.record(z.string(), z.string()),
  tables: z.array(z.string()),
  /** Whether `coattail replay` runs it over a recording. */
  replay: z.boolean(),
  settings: z.array(SettingSchema),
});
export type JobSpec = z.infer<typeof JobSchema>;

/** Every job, in the catalogue's order. */
export const CATALOG: readonly JobSpec[] = z.object({ jobs: z.array(JobSchema).min(1) }).parse(catalogJson).jobs;

/** A job's name, checked against the catalogue (checkJob). */
export type JobName = string;
export type JobMode = 'STREAMING' | 'BATCH';

export const JOBS: readonly JobName[] = CATALOG.map((j) => j.name);
export const STREAMING_JOBS: readonly JobName[] = CATALOG.filter((j) => j.kind === 'streaming').map((j) => j.name);
/** Written in jobs-py by their own module; submit passes their arguments (after `--`) through unchanged. */
export const BATCH_JOBS: readonly JobName[] = CATALOG.filter((j) => j.kind === 'batch').map((j) => j.name);
/** What `coattail replay` runs. */
export const REPLAY_JOBS: readonly JobName[] = CATALOG.filter((j) => j.replay).map((j) => j.name);

export function jobSpec(job: JobName): JobSpec {
  const spec = CATALOG.find((j) => j.name === job);
  if (!spec) throw new Error(`${job} is not in the catalogue of jobs`);
  return spec;
}

/** Every query that reads an Iceberg table as a stream, as `<job>/<query>` → the table. */
export const ICEBERG_SOURCES: Readonly<Record<string, string>> = Object.fromEntries(
  CATALOG.flatMap((j) => Object.entries(j.iceberg_queries).map(([query, table]) => [`${j.name}/${query}`, table])),
);

/** The names `--set` takes for a job: each setting's key and its aliases. */
export function settingNames(job: JobName): string[] {
  return jobSpec(job).settings.flatMap((s) => [s.key, ...s.aliases]);
}

export function checkJob(job: string): JobName {
  if (!JOBS.includes(job)) {
    throw usageError(
      `unknown job '${job}'`,
      `the jobs are ${JOBS.join(', ')}`,
      'pass one of them, e.g. coattail jobs submit whale-detector',
    );
  }
  return job;
}

export function jobMode(job: JobName): JobMode {
  return jobSpec(job).kind === 'streaming' ? 'STREAMING' : 'BATCH';
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
