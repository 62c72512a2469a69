/**
 * `coattail jobs pack-env`: the arguments it hands to `python -m coattail_jobs pack-env` and its own checks.
 * The packing itself (pip fetching the manylinux wheels, the same bytes twice, the archive's bin/python running
 * its packages on a plain interpreter) is proven for real by jobs-py/tests/test_pack_env.py.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobsPackEnv } from '../src/commands/jobs/pack-env.js';
import { CoattailError } from '../src/core/errors.js';
import { testContext } from './helpers.js';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coattail-pack-env-'));
  tempDirs.push(dir);
  return dir;
}

/** A stand-in interpreter: records its arguments, prints a hash as the real one does, exits with the status. */
function fakePython(dir: string, exitCode: number): { python: string; record: string } {
  const python = path.join(dir, 'python');
  const record = path.join(dir, 'argv.json');
  writeFileSync(
    python,
    `#!${process.execPath}
require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(2)));
process.stdout.write('${'ab'.repeat(32)}\\n');
process.exit(${exitCode});
`,
  );
  chmodSync(python, 0o755);
  return { python, record };
}

describe('coattail jobs pack-env', () => {
  it('runs python -m coattail_jobs pack-env with the absolute output, the architecture and the interpreter', async () => {
    const cwd = tempDir();
    const { python, record } = fakePython(cwd, 0);
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: python } });
    expect(await jobsPackEnv({ out: 'dist/venv.tar.gz', arch: 'aarch64', interpreter: '/usr/bin/python3.11' }, ctx)).toBe(0);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual([
      '-m', 'coattail_jobs', 'pack-env', '--out', path.join(cwd, 'dist/venv.tar.gz'), '--arch', 'aarch64', '--interpreter', '/usr/bin/python3.11',
    ]);
    expect(ctx.out.text()).toBe(`${'ab'.repeat(32)}\n`); // the sha256, for scripts

    const failing = fakePython(tempDir(), 1);
    const again = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: failing.python } });
    expect(await jobsPackEnv({ out: 'v.tar.gz' }, again)).toBe(1);
    expect(JSON.parse(readFileSync(failing.record, 'utf8'))).toEqual(['-m', 'coattail_jobs', 'pack-env', '--out', path.join(cwd, 'v.tar.gz'), '--arch', 'x86_64']);
  });

  it('refuses an architecture EMR Serverless does not have, with one line and exit code 2, running nothing', async () => {
    const cwd = tempDir();
    const { python, record } = fakePython(cwd, 0);
    const err = (await jobsPackEnv({ out: 'v.tar.gz', arch: 'arm64' }, testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: python } })).catch((e: unknown) => e)) as CoattailError;
    expect(err).toBeInstanceOf(CoattailError);
    expect(err.line()).toBe(
      "coattail: --arch 'arm64' is not an EMR Serverless architecture: it is one of x86_64, aarch64. Pass the application's: aws emr-serverless get-application --application-id <id> --query application.architecture",
    );
    expect(err.exitCode).toBe(2);
    expect(existsSync(record)).toBe(false);
  });
});
