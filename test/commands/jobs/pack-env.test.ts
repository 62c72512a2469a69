/**
 * `coattail jobs pack-env`: the arguments it hands to `python -m coattail_jobs pack-env` and its own checks.
 * The packing itself (pip fetching the manylinux wheels, the same bytes twice, the archive's bin/python running
 * its packages on a plain interpreter) is proven for real by jobs-py/tests/test_pack_env.py.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobsPackEnv } from '../../../src/commands/jobs/pack-env.js';
import { CoattailError } from '../../../src/core/errors.js';
import { tempDir, testContext } from '../../helpers/context.js';
import { standInPython, type StandInPython } from '../../helpers/python.js';

/** A stand-in interpreter: prints a hash as the real one does, exits with the status. */
const fakePython = (dir: string, exitCode: number): StandInPython =>
  standInPython(dir, `process.stdout.write('${'ab'.repeat(32)}\\n');\nprocess.exit(${exitCode});`);

describe('coattail jobs pack-env', () => {
  it('runs python -m coattail_jobs pack-env with the absolute output, the architecture and the interpreter', async () => {
    const cwd = tempDir('pack-env');
    const stand = fakePython(cwd, 0);
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } });
    expect(await jobsPackEnv({ out: 'dist/venv.tar.gz', arch: 'aarch64', interpreter: '/usr/bin/python3.11' }, ctx)).toBe(0);
    expect(stand.seen().argv).toEqual([
      '-m',
      'coattail_jobs',
      'pack-env',
      '--out',
      path.join(cwd, 'dist/venv.tar.gz'),
      '--arch',
      'aarch64',
      '--interpreter',
      '/usr/bin/python3.11',
    ]);
    expect(ctx.out.text()).toBe(`${'ab'.repeat(32)}\n`); // the sha256, for scripts

    const failing = fakePython(tempDir('pack-env'), 1);
    const again = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: failing.python } });
    expect(await jobsPackEnv({ out: 'v.tar.gz' }, again)).toBe(1);
    expect(failing.seen().argv).toEqual(['-m', 'coattail_jobs', 'pack-env', '--out', path.join(cwd, 'v.tar.gz'), '--arch', 'x86_64']);
  });

  it('refuses an architecture EMR Serverless does not have, with one line and exit code 2, running nothing', async () => {
    const cwd = tempDir('pack-env');
    const stand = fakePython(cwd, 0);
    const err = (await jobsPackEnv(
      { out: 'v.tar.gz', arch: 'arm64' },
      testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } }),
    ).catch((e: unknown) => e)) as CoattailError;
    expect(err).toBeInstanceOf(CoattailError);
    expect(err.line()).toBe(
      "coattail: --arch 'arm64' is not an EMR Serverless architecture: it is one of x86_64, aarch64. Pass the application's: aws emr-serverless get-application --application-id <id> --query application.architecture",
    );
    expect(err.exitCode).toBe(2);
    expect(existsSync(stand.record)).toBe(false);
  });
});
