/**
 * The jobs' Python, found and run: the repository's `jobs-py/` (walked up to from this module), its
 * interpreter (`COATTAIL_PYTHON`, else `jobs-py/.venv`), and a run of `python -m coattail_jobs ...` with an
 * argument array, never a shell string.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild, type ChildRun } from '../core/child.js';
import type { CommandContext } from '../core/context.js';
import { CoattailError } from '../core/errors.js';
import { runSpark, type SparkRun } from './spark-log.js';

/** How the interpreter runs the jobs' entry point: `python -m coattail_jobs <command> ...`. */
export const PYTHON_JOBS_ENTRY: readonly string[] = ['-m', 'coattail_jobs'];

/** The repository root: the folder holding jobs-py/, found by walking up from this module (src/ or dist/). */
export function repoRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'jobs-py', 'pyproject.toml'))) return dir;
    if (path.dirname(dir) === dir) {
      throw new CoattailError(
        'cannot find the Spark jobs (jobs-py/)',
        `no jobs-py/pyproject.toml above ${from}`,
        'run coattail from its repository checkout, or set COATTAIL_PYTHON to a Python with coattail_jobs installed',
      );
    }
  }
}

/** The Python that runs the jobs: COATTAIL_PYTHON, else jobs-py/.venv/bin/python in the repository. */
export function jobsPython(env: NodeJS.ProcessEnv, root: () => string = () => repoRoot()): string {
  const configured = env.COATTAIL_PYTHON;
  if (configured) return configured;
  const venv = path.join(root(), 'jobs-py', '.venv', 'bin', 'python');
  if (!existsSync(venv))
    throw new CoattailError(
      "the Spark jobs' Python environment is missing",
      `no ${venv}`,
      'run make install-py (or set COATTAIL_PYTHON to a Python with coattail_jobs installed)',
    );
  return venv;
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
      cannotRunFix: 'run make install-py (or set COATTAIL_PYTHON to a Python with coattail_jobs installed)',
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
      'run it again with --verbose and check jobs-py is up to date (make install-py)',
    );
  }
}
