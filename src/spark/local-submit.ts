/**
 * `coattail jobs submit <job> --local`: the same job, bundle and entry script as on EMR Serverless, run with
 * spark-submit on local Spark against the local emulators. The local SparkConf comes from the jobs' own
 * `python -m coattail_jobs spark-conf local` (one source with the jobs' local mode); spark-submit gets it as
 * `--conf` arguments because packages and driver JVM options must be known when it starts. Every command
 * line is an argument array.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runChild } from '../core/child.js';
import type { CommandContext } from '../core/context.js';
import { CoattailError, errorMessage } from '../core/errors.js';
import { localEndpoints } from '../local/state.js';
import { buildBundle, BUNDLE_ZIP, ENTRY_SCRIPT } from '../bundle/bundle.js';
import { jobMode, runName, type JobName } from './jobs.js';
import { DEFAULT_ALERTS_TABLE, DEFAULT_STREAM, type JobsDeps } from './emr/settings.js';
import { packageRoot } from '../core/dirs.js';
import { ensureJobsPython, JOBS_PYTHON_FIX } from './python.js';

export interface LocalOptions {
  stateDir?: string;
  kinesisEndpoint?: string;
  dynamodbEndpoint?: string;
  warehouse?: string;
  sparkSubmit?: string;
  stream?: string;
  alertsTable?: string;
  region?: string;
  dryRun?: boolean;
}

/** spark-submit: --spark-submit/COATTAIL_SPARK_SUBMIT, else the first on PATH, else the one pyspark ships beside the jobs' Python. */
export function findSparkSubmit(explicit: string | undefined, env: NodeJS.ProcessEnv, python: string): string {
  if (explicit) return explicit;
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter((d) => d.length > 0)) {
    const candidate = path.join(dir, 'spark-submit');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here (or not executable): the next folder of PATH
    }
  }
  const beside = path.join(path.dirname(python), 'spark-submit');
  if (existsSync(beside)) return beside;
  throw new CoattailError(
    'spark-submit not found',
    `it is not on PATH, nor beside the jobs' Python (${python})`,
    'pass --spark-submit PATH (pyspark brings one)',
  );
}

/** The job's arguments locally: the same as on EMR, with the local emulators and folders in place of AWS. */
export function localJobArguments(
  job: JobName,
  sets: readonly string[],
  passthrough: readonly string[],
  where: {
    region: string;
    stream: string;
    alertsTable: string;
    kinesisEndpoint: string;
    dynamodbEndpoint: string;
    warehouse: string;
    checkpointRoot: string;
    rawRoot: string;
  },
): string[] {
  if (jobMode(job) === 'BATCH') return [job, ...passthrough];
  return [
    job,
    '--mode',
    'local',
    '--stream',
    where.stream,
    '--region',
    where.region,
    '--alerts-table',
    where.alertsTable,
    '--checkpoint-root',
    where.checkpointRoot,
    '--raw-root',
    where.rawRoot,
    '--kinesis-endpoint',
    where.kinesisEndpoint,
    '--dynamodb-endpoint',
    where.dynamodbEndpoint,
    '--warehouse',
    where.warehouse,
    ...sets.flatMap((s) => ['--set', s]),
    ...passthrough,
  ];
}

/** Runs a program with an argument array and returns its stdout (for the jobs' `spark-conf local`). */
function capture(program: string, args: string[], ctx: CommandContext): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: ctx.cwd, env: ctx.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', (e) => reject(new CoattailError(`cannot run ${program}`, errorMessage(e), JOBS_PYTHON_FIX)));
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else
        reject(
          new CoattailError(
            `${path.basename(program)} ${args.join(' ')} failed`,
            Buffer.concat(err).toString('utf8').trim().split('\n').pop() || `exit status ${code}`,
            JOBS_PYTHON_FIX,
          ),
        );
    });
  });
}

export async function localSparkConf(python: string, warehouse: string, ctx: CommandContext): Promise<Record<string, string>> {
  const text = await capture(python, ['-m', 'coattail_jobs', 'spark-conf', 'local', '--warehouse', warehouse], ctx);
  const conf = JSON.parse(text) as Record<string, string>;
  return Object.fromEntries(Object.entries(conf).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export async function submitLocal(
  job: JobName,
  sets: readonly string[],
  passthrough: readonly string[],
  opts: LocalOptions,
  ctx: CommandContext,
  deps: JobsDeps,
): Promise<number> {
  const root = deps.root ?? packageRoot();
  const streaming = jobMode(job) === 'STREAMING';
  let kinesisEndpoint = opts.kinesisEndpoint;
  let dynamodbEndpoint = opts.dynamodbEndpoint;
  let region = opts.region;
  let stream = opts.stream;
  if (streaming && (!kinesisEndpoint || !dynamodbEndpoint)) {
    const local = localEndpoints(path.resolve(ctx.cwd, opts.stateDir ?? '.coattail/local'));
    kinesisEndpoint ??= local.kinesisEndpoint;
    dynamodbEndpoint ??= local.dynamodbEndpoint;
    region ??= local.region;
    stream ??= local.stream;
  }
  const warehouse = path.resolve(ctx.cwd, opts.warehouse ?? '.coattail/warehouse');
  const python = await ensureJobsPython(ctx, { root, spark: true });
  const conf = await localSparkConf(python, warehouse, ctx);

  // The same bundle as on EMR, kept under its hash beside the local state.
  const bundle = buildBundle(path.join(root, 'jobs-py'));
  const bundleDir = path.resolve(ctx.cwd, '.coattail', 'bundles', bundle.hash);
  const zipPath = path.join(bundleDir, BUNDLE_ZIP);
  if (!existsSync(zipPath) && !opts.dryRun) {
    mkdirSync(bundleDir, { recursive: true });
    writeFileSync(zipPath, bundle.zip);
  }
  const jobArgs = localJobArguments(job, sets, passthrough, {
    region: region ?? 'us-east-1',
    stream: stream ?? DEFAULT_STREAM,
    alertsTable: opts.alertsTable ?? DEFAULT_ALERTS_TABLE,
    kinesisEndpoint: kinesisEndpoint ?? '',
    dynamodbEndpoint: dynamodbEndpoint ?? '',
    warehouse,
    checkpointRoot: path.resolve(ctx.cwd, '.coattail', 'checkpoints'),
    rawRoot: path.resolve(ctx.cwd, '.coattail', 'raw'),
  });
  const sparkSubmit = findSparkSubmit(opts.sparkSubmit, ctx.env, python);
  const args = [
    '--name',
    runName(job),
    ...Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]),
    '--py-files',
    zipPath,
    path.join(root, 'jobs-py', ENTRY_SCRIPT),
    ...jobArgs,
  ];
  if (opts.dryRun) {
    ctx.stdout.write(`${JSON.stringify({ command: sparkSubmit, args }, null, 2)}\n`);
    return 0;
  }
  ctx.logger.info(`running ${job} on local Spark`, { sparkSubmit, bundle: bundle.hash.slice(0, 12) });
  // Driver and Python workers run the jobs' interpreter (pandas, pyarrow), not whatever python3 is on PATH.
  return runSparkSubmit(sparkSubmit, args, { ...ctx.env, PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python }, ctx);
}

async function runSparkSubmit(program: string, args: string[], env: NodeJS.ProcessEnv, ctx: CommandContext): Promise<number> {
  const { code } = await runChild(
    {
      program,
      args,
      env,
      cannotRunFix: 'pass --spark-submit PATH',
      what: path.basename(program),
      killedFix: 'run it again; give Spark more memory if it keeps happening',
    },
    ctx,
  );
  return code;
}
