/** Job runs for people (cli-table3 tables, no colours) and for machines (`--json`). */
import Table from 'cli-table3';
import type { JobRun, JobRunSummary } from '@aws-sdk/client-emr-serverless';
import { jobOfRunName } from '../jobs.js';

function iso(d: Date | undefined): string {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
}

const PLAIN = { head: [] as string[], border: [] as string[] };

export interface RunJson {
  id: string;
  name: string | null;
  job: string | null;
  mode: string | null;
  state: string | null;
  stateDetails: string | null;
  attempt: number;
  createdAt: string | null;
  updatedAt: string | null;
}

function runId(run: JobRunSummary | JobRun): string {
  return ('jobRunId' in run ? run.jobRunId : run.id) ?? '';
}

export function runJson(run: JobRunSummary | JobRun): RunJson {
  return {
    id: runId(run),
    name: run.name ?? null,
    job: jobOfRunName(run.name) ?? null,
    mode: run.mode ?? null,
    state: run.state ?? null,
    stateDetails: run.stateDetails || null,
    attempt: run.attempt ?? 1,
    createdAt: run.createdAt ? iso(run.createdAt) : null,
    updatedAt: run.updatedAt ? iso(run.updatedAt) : null,
  };
}

export function runsTable(runs: readonly JobRunSummary[]): string {
  const table = new Table({ head: ['RUN ID', 'JOB', 'MODE', 'STATE', 'ATTEMPT', 'CREATED (UTC)', 'UPDATED (UTC)'], style: PLAIN });
  for (const r of runs)
    table.push([
      runId(r),
      jobOfRunName(r.name) ?? r.name ?? '',
      r.mode ?? '',
      r.state ?? '',
      String(r.attempt ?? 1),
      iso(r.createdAt),
      iso(r.updatedAt),
    ]);
  return `${table.toString()}\n`;
}

export function runTable(run: JobRun, logLocation: string | undefined): string {
  const table = new Table({ style: PLAIN });
  const duration = run.totalExecutionDurationSeconds;
  const rows: [string, string][] = [
    ['Run ID', run.jobRunId ?? ''],
    ['Name', run.name ?? ''],
    ['Job', jobOfRunName(run.name) ?? ''],
    ['Mode', run.mode ?? ''],
    ['State', run.state ?? ''],
    ['Details', run.stateDetails ?? ''],
    ['Attempt', String(run.attempt ?? 1)],
    ['Created (UTC)', iso(run.createdAt)],
    ['Updated (UTC)', iso(run.updatedAt)],
    ['Duration', duration === undefined ? '' : `${duration} s`],
    ['Release', run.releaseLabel ?? ''],
    ['Logs', logLocation ?? ''],
  ];
  for (const [k, v] of rows) table.push({ [k]: v });
  return `${table.toString()}\n`;
}
