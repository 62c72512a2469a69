/**
 * `coattail jobs pack-env --out FILE [--arch x86_64|aarch64] [--interpreter PATH]`: the jobs' packages
 * (pandas, pyarrow, boto3, pinned) for EMR Serverless, as the reproducible archive `jobs submit
 * --venv-archive FILE` uploads for `spark.archives`. The packing is the PySpark package's `python -m
 * coattail_jobs pack-env` (jobs-py/coattail_jobs/pack_env.py): pip fetches the manylinux wheels of the
 * image's architecture, whatever this machine is, and `bin/python` runs the image's Python 3.11 with them.
 * Prints the archive's sha256 (the key it is stored under in S3). pip runs for minutes: its output goes to a
 * log file named in one line (its last lines shown if it fails), and a spinner (plain lines off a terminal)
 * says the step: creating the environment, fetching package i of N, installing, packing, the archive's size.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from '../../core/context.js';
import { usageError } from '../../core/errors.js';
import { commandLogPath, showLogTail, shownPath } from '../../core/log-file.js';
import { formatBytes, startTask } from '../../core/progress.js';
import { ensureJobsPython, PYTHON_JOBS_ENTRY, runJobsPython } from '../../spark/python.js';

export const PACK_ENV = 'pack-env';
export const ARCHES = ['x86_64', 'aarch64'] as const;
/** How pack_env.py marks a step on stderr when given --log (PROGRESS_PREFIX there). */
export const PROGRESS_PREFIX = 'progress: ';

export interface PackEnvOptions {
  out: string;
  arch?: string;
  interpreter?: string;
}

export function packEnvArgs(
  out: string,
  arch: string,
  interpreter: string | undefined,
  entry: readonly string[] = PYTHON_JOBS_ENTRY,
): string[] {
  return [...entry, PACK_ENV, '--out', out, '--arch', arch, ...(interpreter ? ['--interpreter', interpreter] : [])];
}

export async function jobsPackEnv(opts: PackEnvOptions, ctx: CommandContext): Promise<number> {
  const arch = opts.arch ?? 'x86_64';
  if (!(ARCHES as readonly string[]).includes(arch)) {
    throw usageError(
      `--arch '${arch}' is not an EMR Serverless architecture`,
      `it is one of ${ARCHES.join(', ')}`,
      "pass the application's: aws emr-serverless get-application --application-id <id> --query application.architecture",
    );
  }
  const out = path.resolve(ctx.cwd, opts.out);
  const python = await ensureJobsPython(ctx);
  const log = commandLogPath(PACK_ENV, ctx.cwd, ctx.clock.now());
  const args = [...packEnvArgs(out, arch, opts.interpreter), '--log', log];
  ctx.logger.info(`pip's output goes to ${shownPath(log, ctx.cwd)}`);
  const task = startTask(ctx, `packing the jobs' packages for EMR Serverless (${arch})`, { rawLines: true });
  const { code } = await runJobsPython(python, args, ctx, false, {
    onStderrLine: (line) => (line.startsWith(PROGRESS_PREFIX) ? task.update(line.slice(PROGRESS_PREFIX.length)) : task.line(line)),
  });
  if (code !== 0) {
    task.stop();
    showLogTail(log, "pip's", ctx);
    return code;
  }
  task.succeed(`packed ${shownPath(out, ctx.cwd)} (${formatBytes(statSync(out).size)})`);
  return code;
}
