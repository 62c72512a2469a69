/**
 * `coattail reprocess --as-of <ISO time | snapshot id> [--set name=value ...] [--report FILE] [--json]`:
 * re-runs anomaly detection over Iceberg `raw_trades` as of that snapshot or time, writes
 * `anomalies_reprocessed`, and shows how the result compares with `anomalies`, per symbol.
 *
 * The work is the PySpark package's `python -m coattail_jobs reprocess-anomalies` (jobs-py/coattail_jobs/
 * batch/reprocess.py). This handler checks the arguments first (the same rules as the Python side, so a
 * typo costs no Spark start), runs it on local Spark with an argument array, lets its stderr through, and
 * renders the JSON report it prints as a table (or passes it on with --json). The Python side checks what
 * only the table can tell (a time before the first snapshot, an unknown snapshot id): one line, status 2.
 *
 * `--emr` submits the same job to EMR Serverless through `coattail jobs submit reprocess-anomalies` (same
 * settings, same bundle and client token rules); the report then goes to the driver's stdout log and to
 * `--report s3://...` when given.
 */
import path from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import Table from 'cli-table3';
import { z } from 'zod';
import type { CommandContext } from '../core/context.js';
import { CoattailError, usageError } from '../core/errors.js';
import { bucketLayout } from '../config/layout.js';
import { checkS3Uri } from '../config/validate.js';
import { awsFailure } from '../aws/errors.js';
import { submitToEmr, type EmrSubmitOptions } from '../spark/emr/submit.js';
import { resolveEmrSettings, s3Client, type JobsDeps } from '../spark/emr/settings.js';
import { ensureJobsPython, lastJsonLine, PYTHON_JOBS_ENTRY, runJobsPython } from '../spark/python.js';
import { settingNames } from '../spark/jobs.js';

export const REPROCESS_JOB = 'reprocess-anomalies';
/** The anomaly detector's settings, each with its aliases (the catalogue's). */
export const REPROCESS_SETTINGS: readonly string[] = settingNames(REPROCESS_JOB);

/** Options as commander hands them over (environment variables applied); the EMR ones as for `jobs submit`. */
export interface ReprocessOptions extends EmrSubmitOptions {
  asOf?: string;
  set?: string[];
  json?: boolean;
  warehouse?: string;
  report?: string;
  emr?: boolean;
}

const SNAPSHOT_ID = /^\d{1,19}$/;
const MAX_SNAPSHOT_ID = 2n ** 63n - 1n;
// The Python side's ISO_INSTANT (batch/common.py): a time WITH its zone, or which instant is meant is a guess.
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;
const AS_OF_FIX = 'write it like 2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00 or a snapshot id like 5301479425378617361';

function validDate(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return (
    t.getUTCFullYear() === y &&
    t.getUTCMonth() === mo - 1 &&
    t.getUTCDate() === d &&
    t.getUTCHours() === h &&
    t.getUTCMinutes() === mi &&
    t.getUTCSeconds() === s
  );
}

/** The --as-of argument, checked: a snapshot id (digits, at most 2^63 - 1) or an ISO-8601 time with a zone. */
export function checkAsOf(value: string | undefined): string {
  if (value === undefined || value.trim() === '') {
    throw usageError('--as-of is missing', 'reprocess reads raw_trades as of a snapshot id or a time', AS_OF_FIX);
  }
  const text = value.trim();
  if (SNAPSHOT_ID.test(text)) {
    if (BigInt(text) > MAX_SNAPSHOT_ID)
      throw usageError(`--as-of ${text} is not a snapshot id`, 'it is larger than any 64-bit snapshot id', AS_OF_FIX);
    return text;
  }
  const m = ISO_INSTANT.exec(text);
  if (!m)
    throw usageError(
      `--as-of '${text}' is neither a snapshot id nor a time`,
      'it takes digits (a snapshot id of raw_trades) or an ISO-8601 time with a zone',
      AS_OF_FIX,
    );
  const [y, mo, d, h, mi, s = '0', zh = '0', zm = '0'] = m.slice(1).map((p) => p ?? undefined) as string[];
  if (!validDate(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)) || Number(zh) > 23 || Number(zm) > 59) {
    throw usageError(`--as-of '${text}' is not a valid time`, 'a date or time field is out of range', AS_OF_FIX);
  }
  return text;
}

/** --set NAME=VALUE items, checked: only the anomaly detector's settings apply to a reprocessing. */
export function checkReprocessSettings(settings: readonly string[]): string[] {
  for (const s of settings) {
    const name = s.split('=', 1)[0]!.trim();
    if (!s.includes('=') || !REPROCESS_SETTINGS.includes(name)) {
      throw usageError(
        `--set '${s}' does not apply`,
        `reprocess takes ${REPROCESS_SETTINGS.join(', ')} as NAME=VALUE`,
        'write it like --set threshold=3.0',
      );
    }
  }
  return [...settings];
}

/** The Python arguments (after the interpreter) of a checked local run. */
export function reprocessArgs(
  asOf: string,
  settings: readonly string[],
  warehouse: string,
  report?: string,
  entry: readonly string[] = PYTHON_JOBS_ENTRY,
): string[] {
  return [
    ...entry,
    REPROCESS_JOB,
    '--as-of',
    asOf,
    '--warehouse',
    warehouse,
    ...(report ? ['--report', report] : []),
    ...settings.flatMap((s) => ['--set', s]),
  ];
}

// ---------------------------------------------------------------- the report

const count = z.number().int().nonnegative();
const SymbolRow = z.object({ symbol: z.string(), matched: count, only_original: count, only_reprocessed: count });
/** What `reprocess-anomalies` prints on stdout: the fields rendered here are checked, the others kept. */
export const ReprocessReport = z.looseObject({
  as_of: z.string(),
  snapshot_id: z.string(),
  snapshot_committed_at: z.string(),
  trades: count,
  windows: count,
  symbols: z.array(SymbolRow),
  total: SymbolRow.omit({ symbol: true }),
  original_outside_span: count,
  only_original_ids: z.array(z.string()),
  only_reprocessed_ids: z.array(z.string()),
  report: z.string().optional(),
});
export type ReprocessReport = z.infer<typeof ReprocessReport>;

const PLAIN = { head: [] as string[], border: [] as string[] };
const LISTED_IDS = 10;

function idLine(label: string, ids: readonly string[]): string[] {
  if (ids.length === 0) return [];
  const shown = ids.slice(0, LISTED_IDS).join(', ');
  return [`${label}: ${shown}${ids.length > LISTED_IDS ? ` (and ${ids.length - LISTED_IDS} more in the report)` : ''}`];
}

/** The comparison for people: a heading, one table row per symbol and a total, then the ids that differ. */
export function renderComparison(r: ReprocessReport): string {
  const table = new Table({
    head: ['SYMBOL', 'MATCHED', 'ONLY ORIGINAL', 'ONLY REPROCESSED'],
    colAligns: ['left', 'right', 'right', 'right'],
    style: PLAIN,
  });
  for (const s of r.symbols) table.push([s.symbol, String(s.matched), String(s.only_original), String(s.only_reprocessed)]);
  table.push(['TOTAL', String(r.total.matched), String(r.total.only_original), String(r.total.only_reprocessed)]);
  return (
    [
      `raw_trades as of ${r.as_of}: snapshot ${r.snapshot_id} (committed ${r.snapshot_committed_at}), ${r.trades} trades in ${r.windows} windows`,
      table.toString(),
      `not compared: ${r.original_outside_span} original anomalies outside the windows this snapshot covers`,
      ...idLine('only original', r.only_original_ids),
      ...idLine('only reprocessed', r.only_reprocessed_ids),
      ...(r.report ? [`report: ${r.report}`] : []),
    ].join('\n') + '\n'
  );
}

/** The report line on stdout, checked; a CoattailError when the Python side printed something else. */
export function parseReport(stdout: string): { line: string; report: ReprocessReport } {
  const { line, value: parsed } = lastJsonLine(stdout, 'the reprocessing printed no report');
  return { line, report: checkReport(parsed) };
}

function checkReport(parsed: unknown): ReprocessReport {
  const checked = ReprocessReport.safeParse(parsed);
  if (!checked.success)
    throw new CoattailError(
      'the reprocessing printed a report of another shape',
      checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      'check jobs-py is up to date (make install-py)',
    );
  return checked.data;
}

/** The report's file name for an as-of, as the job names its local default (`:` and the like as `-`). */
export function reportName(asOf: string): string {
  return `${asOf.replace(/[^A-Za-z0-9.+-]/g, '-')}.json`;
}

/** `coattail reprocess`: 0 done, 2 bad usage (here or from the Python side), 1 failed. */
export async function reprocess(opts: ReprocessOptions, ctx: CommandContext, deps: JobsDeps = {}): Promise<number> {
  const asOf = checkAsOf(opts.asOf);
  const settings = checkReprocessSettings(opts.set ?? []);
  if (opts.emr) return reprocessOnEmr(asOf, settings, opts, ctx, deps);

  const warehouse = path.resolve(ctx.cwd, opts.warehouse ?? '.coattail/warehouse');
  const report = opts.report === undefined || opts.report.startsWith('s3://') ? opts.report : path.resolve(ctx.cwd, opts.report);
  const python = await ensureJobsPython(ctx, { spark: true });
  const args = reprocessArgs(asOf, settings, warehouse, report);
  ctx.logger.debug('starting the reprocessing', { python, args: args.join(' ') });
  const { code, stdout } = await runJobsPython(python, args, ctx, true, { spark: { command: 'reprocess', stage: 'reprocessing' } });
  if (code !== 0) return code;
  const parsed = parseReport(stdout);
  ctx.stdout.write(opts.json ? `${parsed.line}\n` : renderComparison(parsed.report));
  return 0;
}

/**
 * `--emr`: `coattail jobs submit reprocess-anomalies -- --as-of ... --report s3://...` with the same EMR
 * options (submit adds `--mode emr`). The report goes to `--report`, by default
 * `s3://<bucket>/coattail/reprocess/<as-of>.json`; with `--wait`, once the run has succeeded, it is read
 * back from there and printed as the same comparison table as a local run.
 */
async function reprocessOnEmr(
  asOf: string,
  settings: readonly string[],
  opts: ReprocessOptions,
  ctx: CommandContext,
  deps: JobsDeps,
): Promise<number> {
  if (opts.report !== undefined && !opts.report.startsWith('s3://')) {
    throw usageError(
      `--report ${opts.report} is not on S3`,
      "with --emr the report is written by the job's driver, whose disk vanishes with the run",
      'pass --report s3://<bucket>/coattail/reprocess/<name>.json, or leave it out for the default there',
    );
  }
  // Checked before anything runs: the report is read back from this very location after the run.
  if (opts.report !== undefined && checkS3Uri(opts.report, '--report').key.length === 0) {
    throw usageError(
      `--report ${opts.report} names no object`,
      'the report is one JSON file in the bucket',
      'pass --report s3://<bucket>/coattail/reprocess/<name>.json',
    );
  }
  const { asOf: _asOf, set: _set, report: _report, emr: _emr, warehouse: _warehouse, ...submit } = opts;
  const resolved = await resolveEmrSettings(submit, ctx, { role: true, bucket: true });
  const report = opts.report ?? `${bucketLayout(resolved.bucket!).reprocessRoot}/${reportName(asOf)}`;
  const args = ['--as-of', asOf, '--report', report, ...settings.flatMap((s) => ['--set', s])];
  const code = await submitToEmr(REPROCESS_JOB, [], args, submit, ctx, deps);
  if (code !== 0 || opts.dryRun) return code;
  if (!opts.wait) {
    ctx.logger.info('the comparison will be written when the run ends', { report });
    return code;
  }
  const text = await readS3Text(s3Client(deps, resolved, ctx), report, ctx);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CoattailError(
      `the report at ${report} is not JSON`,
      `it starts with ${JSON.stringify(text.slice(0, 60))}`,
      "see the run's driver log: coattail jobs logs <run> --log stdout",
    );
  }
  const checked = checkReport(parsed);
  ctx.stdout.write(opts.json ? `${JSON.stringify(checked)}\n` : renderComparison(checked));
  return 0;
}

async function readS3Text(s3: S3Client, uri: string, ctx: CommandContext): Promise<string> {
  const { bucket, key } = checkS3Uri(uri, '--report');
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return out.Body ? await out.Body.transformToString('utf-8') : '';
  } catch (err) {
    throw awsFailure(err, `the run succeeded but its report cannot be read from ${uri}`, ctx.env);
  }
}
