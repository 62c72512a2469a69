/**
 * `coattail replay <job> --input trades.jsonl --out DIR [--set name=value ...] [--json]`: backtesting.
 *
 * The replay itself is the PySpark package's (`python -m coattail_jobs replay`, jobs-py/coattail_jobs/
 * replay/): it runs the job's streaming logic over the recording and writes one NDJSON file per output.
 * This handler checks what it can without Python (the job, the paths, the shape of each --set), finds the
 * jobs' Python environment, runs it with an argument array (never a shell string), lets its stderr and
 * stdout through as they come, and returns its exit status. Setting names and values are checked by the
 * Python side, which answers a bad one with one line and status 2.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from '../core/context.js';
import { usageError } from '../core/errors.js';
import { REPLAY_JOBS, type JobName } from '../spark/jobs.js';
import { ensureJobsPython, runJobsPython } from '../spark/python.js';

/** How the package entry point runs a replay: `python -m coattail_jobs replay <job> ...`. */
export const PYTHON_REPLAY_ENTRY: readonly string[] = ['-m', 'coattail_jobs', 'replay'];

/** Options as commander hands them over (environment variables already applied). */
export interface ReplayOptions {
  job: string;
  input?: string;
  out?: string;
  set?: string[];
  json?: boolean;
}

const SETTING = /^[A-Za-z_]+=/;

function checkJob(job: string): JobName {
  if (!REPLAY_JOBS.includes(job)) {
    throw usageError(
      `unknown job '${job}'`,
      `replay runs ${REPLAY_JOBS.join(', ')}`,
      'pass one of them, e.g. coattail replay whale-detector --input trades.jsonl --out backtest',
    );
  }
  return job;
}

function checkInput(cwd: string, input: string | undefined): string {
  if (!input)
    throw usageError(
      '--input is missing',
      'replay reads a recording of unified trades',
      'pass --input trades.jsonl (coattail ingest --sink stdout > trades.jsonl records one)',
    );
  const file = path.resolve(cwd, input);
  if (!existsSync(file))
    throw usageError(`--input ${input} not found`, `no such file ${file}`, 'pass a recording of unified trades, one JSON object a line');
  if (!statSync(file).isFile()) throw usageError(`--input ${input} is not a file`, `${file} is a folder`, 'pass the recording file itself');
  return file;
}

function checkOut(cwd: string, out: string | undefined): string {
  if (!out) throw usageError('--out is missing', 'replay writes its NDJSON files into a folder', 'pass --out DIR (created if missing)');
  const dir = path.resolve(cwd, out);
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw usageError(`--out ${out} is a file`, 'replay writes several files into a folder', 'pass a folder (created if missing)');
  return dir;
}

function checkSettings(settings: readonly string[]): string[] {
  for (const s of settings) {
    if (!SETTING.test(s))
      throw usageError(
        `--set '${s}' is not NAME=VALUE`,
        'a setting names a job setting and its value',
        'write it like --set threshold=3.0',
      );
  }
  return [...settings];
}

/** The Python arguments (after the interpreter) for a checked replay. */
export function replayArgs(
  job: JobName,
  input: string,
  out: string,
  settings: readonly string[],
  json: boolean,
  entry: readonly string[] = PYTHON_REPLAY_ENTRY,
): string[] {
  return [...entry, job, '--input', input, '--out', out, ...settings.flatMap((s) => ['--set', s]), ...(json ? ['--json'] : [])];
}

/**
 * `coattail replay`: checks the arguments, then runs the Python replay and returns its exit status
 * (0 done, 2 bad usage, 1 failed). `entry` is how the interpreter is told to run the replay.
 */
export async function replay(opts: ReplayOptions, ctx: CommandContext, entry: readonly string[] = PYTHON_REPLAY_ENTRY): Promise<number> {
  const job = checkJob(opts.job);
  const input = checkInput(ctx.cwd, opts.input);
  const out = checkOut(ctx.cwd, opts.out);
  const settings = checkSettings(opts.set ?? []);
  const python = await ensureJobsPython(ctx, { spark: true });
  const args = replayArgs(job, input, out, settings, opts.json === true, entry);
  ctx.logger.debug('starting the replay', { python, args: args.join(' ') });
  // stdout is the --json summary (data), stderr Spark's and the replay's lines (people): both as they come.
  const { code } = await runJobsPython(python, args, ctx, false, {
    what: 'the replay',
    spark: { command: 'replay' },
    killedFix: 'run it again; if it keeps happening, give Spark more memory or a smaller recording',
  });
  return code;
}
