/**
 * The jobs' Python, found and run: `COATTAIL_PYTHON`, else a checkout's `jobs-py/.venv` (make install-py),
 * else the per-user environment an installed coattail creates on first use (python-env.ts); and a run of
 * `python -m coattail_jobs ...` with an argument array, never a shell string.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runChild, type ChildRun } from '../core/child.js';
import type { CommandContext } from '../core/context.js';
import { packageRoot } from '../core/dirs.js';
import { CoattailError } from '../core/errors.js';
import { requireJava } from './java.js';
import { createDataEnv, dataEnvDir, dataEnvReady } from './python-env.js';
import { runSpark, type SparkRun } from './spark-log.js';

/** How the interpreter runs the jobs' entry point: `python -m coattail_jobs <command> ...`. */
export const PYTHON_JOBS_ENTRY: readonly string[] = ['-m', 'coattail_jobs'];

/** What to do when the jobs' Python cannot be run. */
export const JOBS_PYTHON_FIX = 'set COATTAIL_PYTHON to a Python with coattail_jobs installed, or unset it to use the one coattail creates';

/** Which Python runs the jobs, and where that choice came from. */
export type JobsPythonChoice =
  | { source: 'COATTAIL_PYTHON'; python: string }
  | { source: 'checkout'; python: string }
  | { source: 'data'; python: string; dir: string; ready: boolean };

/** The order: COATTAIL_PYTHON, else the checkout's jobs-py/.venv when it exists, else the data-folder environment. */
export function chooseJobsPython(env: NodeJS.ProcessEnv, root: string = packageRoot()): JobsPythonChoice {
  const configured = env.COATTAIL_PYTHON;
  if (configured) return { source: 'COATTAIL_PYTHON', python: configured };
  const venv = path.join(root, 'jobs-py', '.venv', 'bin', 'python');
  if (existsSync(venv)) return { source: 'checkout', python: venv };
  const dir = dataEnvDir(env, root);
  return { source: 'data', python: path.join(dir, 'bin', 'python'), dir, ready: dataEnvReady(dir) };
}

/**
 * The Python that runs the jobs as it is now, without creating anything (for checks such as doctor's):
 * throws when the data-folder environment is not created yet.
 */
export function jobsPython(env: NodeJS.ProcessEnv, root: () => string = () => packageRoot()): string {
  const choice = chooseJobsPython(env, root());
  if (choice.source !== 'data' || choice.ready) return choice.python;
  throw new CoattailError(
    "the jobs' Python environment is not created yet",
    `no ${choice.dir}`,
    'any command that runs the jobs creates it on first use (coattail replay, demo, reprocess, backfill), or set COATTAIL_PYTHON',
  );
}

/**
 * The Python that runs the jobs, ready to use: the data-folder environment is created first when it is
 * missing. With `spark`, Java is checked first (one line when missing), before anything long starts.
 */
export async function ensureJobsPython(ctx: CommandContext, opts: { root?: string; spark?: boolean } = {}): Promise<string> {
  const root = opts.root ?? packageRoot();
  const choice = chooseJobsPython(ctx.env, root);
  if (opts.spark) requireJava(ctx.env);
  if (choice.source === 'data' && !choice.ready) await createDataEnv(choice.dir, root, ctx);
  if (choice.source === 'COATTAIL_PYTHON' || existsSync(choice.python)) return choice.python;
  throw new CoattailError("the jobs' Python is missing", `no ${choice.python}`, JOBS_PYTHON_FIX);
}

/**
 * Runs the jobs' Python with an argument array (never a shell string); stderr goes through as it comes.
 * stdout goes through too, or, with `captureStdout`, is kept and returned. SIGINT/SIGTERM of the command
 * stop the child; the result is its exit status (130 when stopped that way). With `spark`, a run that starts
 * local Spark: Spark's own output goes to a log file unless -v (src/spark/spark-log.ts).
 */
export function runJobsPython(
  python: string,
  args: readonly string[],
  ctx: CommandContext,
  captureStdout: boolean,
  labels: { what?: string; killedFix?: string; spark?: SparkRun; onStderrLine?: (line: string) => void } = {},
): Promise<{ code: number; stdout: string }> {
  const spark = labels.spark;
  const run = spark ? (child: ChildRun, c: CommandContext) => runSpark(child, spark, c) : runChild;
  return run(
    {
      program: python,
      args,
      captureStdout,
      cannotRunFix: JOBS_PYTHON_FIX,
      what: labels.what ?? (args.slice(2, 3).join('') || 'the job'),
      killedFix: labels.killedFix ?? 'run it again; if it keeps happening, give Spark more memory',
      ...(labels.onStderrLine ? { onStderrLine: labels.onStderrLine } : {}),
    },
    ctx,
  );
}

/**
 * The last non-empty line of a Python job's stdout as JSON (its summary or report), or a CoattailError
 * saying `missing` ("the backfill printed no summary") when the job printed something else.
 */
export function lastJsonLine(stdout: string, missing: string): { line: string; value: unknown } {
  const line =
    stdout
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .pop() ?? '';
  try {
    return { line, value: JSON.parse(line) as unknown };
  } catch {
    throw new CoattailError(
      missing,
      `its last line on stdout is not JSON: ${line.slice(0, 120) || '(nothing)'}`,
      'run it again with --verbose; in a checkout, check jobs-py/.venv is up to date (make install-py)',
    );
  }
}
