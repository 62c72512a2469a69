/**
 * `coattail jobs pack-env --out FILE [--arch x86_64|aarch64] [--interpreter PATH]`: the jobs' packages
 * (pandas, pyarrow, boto3, pinned) for EMR Serverless, as the reproducible archive `jobs submit
 * --venv-archive FILE` uploads for `spark.archives`. The packing is the PySpark package's `python -m
 * coattail_jobs pack-env` (jobs-py/coattail_jobs/pack_env.py): pip fetches the manylinux wheels of the
 * image's architecture, whatever this machine is, and `bin/python` runs the image's Python 3.11 with them.
 * Prints the archive's sha256 (the key it is stored under in S3).
 */
import path from 'node:path';
import type { CommandContext } from '../../core/context.js';
import { usageError } from '../../core/errors.js';
import { ensureJobsPython, PYTHON_JOBS_ENTRY, runJobsPython } from '../../spark/python.js';

export const PACK_ENV = 'pack-env';
export const ARCHES = ['x86_64', 'aarch64'] as const;

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
  const args = packEnvArgs(out, arch, opts.interpreter);
  ctx.logger.info("packing the jobs' packages for EMR Serverless (pip fetches the wheels)", { arch, out });
  const { code } = await runJobsPython(python, args, ctx, false);
  return code;
}
