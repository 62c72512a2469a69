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
import { createLogger } from '../../../src/core/logger.js';
import { Capture, tempDir, testContext } from '../../helpers/context.js';
import { FakeTerminal } from '../../helpers/terminal.js';
import { standInPython, type StandInPython } from '../../helpers/python.js';

/**
 * A stand-in interpreter doing what pack_env.py does with --log: pip's output into the log, each step as a
 * `progress: ` line on stderr, the archive (2,560 bytes) and its hash on stdout; or, failing, pip's reason.
 */
const fakePython = (dir: string, exitCode: number): StandInPython =>
  standInPython(
    dir,
    `const fs = require('node:fs');
const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
fs.mkdirSync(require('node:path').dirname(arg('--log')), { recursive: true });
process.stderr.write('progress: creating the environment for x86_64\\n');
process.stderr.write('progress: fetching 1/2: pandas==2.2.3\\n');
fs.writeFileSync(arg('--log'), Array.from({ length: 30 }, (_, i) => 'pip line ' + (i + 1)).join('\\n') + '\\n');
if (${exitCode} === 0) {
  fs.mkdirSync(require('node:path').dirname(arg('--out')), { recursive: true });
  fs.writeFileSync(arg('--out'), Buffer.alloc(2560));
  process.stdout.write('${'ab'.repeat(32)}\\n');
} else process.stderr.write('coattail_jobs: pip could not install the packages for x86_64: ERROR: no pandas\\n');
process.exit(${exitCode});`,
  );

/** The log file the command named: .coattail/logs/pack-env-<time>.log under the working folder. */
const LOG = /^\.coattail\/logs\/pack-env-\d{8}T\d{6}Z\.log$/;

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
      '--log',
      expect.stringMatching(/\/\.coattail\/logs\/pack-env-\d{8}T\d{6}Z\.log$/),
    ]);
    expect(ctx.out.text()).toBe(`${'ab'.repeat(32)}\n`); // the sha256, for scripts

    const failing = fakePython(tempDir('pack-env'), 1);
    const again = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: failing.python } });
    expect(await jobsPackEnv({ out: 'v.tar.gz' }, again)).toBe(1);
    expect(failing.seen().argv.slice(0, 7)).toEqual([
      '-m',
      'coattail_jobs',
      'pack-env',
      '--out',
      path.join(cwd, 'v.tar.gz'),
      '--arch',
      'x86_64',
    ]);
  });

  it("names pip's log in one line, shows the steps as plain lines off a terminal, and the archive's size", async () => {
    const cwd = tempDir('pack-env');
    const stand = fakePython(cwd, 0);
    const err = new Capture();
    const ctx = testContext({
      cwd,
      env: { ...process.env, COATTAIL_PYTHON: stand.python },
      stderr: err,
      logger: createLogger(err, { level: 'info' }),
    });
    expect(await jobsPackEnv({ out: 'v.tar.gz' }, ctx)).toBe(0);
    const lines = err.lines().map((l) => l.replace(/^\S+ info\s+/, ''));
    expect(lines[0]).toMatch(/^pip's output goes to \.coattail\/logs\/pack-env-\d{8}T\d{6}Z\.log$/);
    // The first step shows at once; the next ones at most every 10 s off a terminal.
    expect(lines.slice(1)).toEqual(["packing the jobs' packages for EMR Serverless (x86_64)", 'packed v.tar.gz (2.5 KiB)']);
    expect(err.text()).not.toContain('\x1b');
    expect(ctx.out.text()).toBe(`${'ab'.repeat(32)}\n`);
  });

  it('on a terminal draws the steps in a spinner', async () => {
    const cwd = tempDir('pack-env');
    const stand = fakePython(cwd, 0);
    const tty = new FakeTerminal();
    const ctx = testContext({
      cwd,
      env: { ...process.env, COATTAIL_PYTHON: stand.python, TERM: 'xterm' },
      stderr: tty,
      logger: createLogger(tty, { level: 'info' }),
    });
    expect(await jobsPackEnv({ out: 'v.tar.gz' }, ctx)).toBe(0);
    expect(tty.text()).toContain('\x1b[');
    expect(tty.text()).toContain('packed v.tar.gz (2.5 KiB)');
  });

  it("when pip fails, shows the job's line and the last 20 lines of pip's log with its path", async () => {
    const cwd = tempDir('pack-env');
    const stand = fakePython(cwd, 1);
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } });
    expect(await jobsPackEnv({ out: 'v.tar.gz' }, ctx)).toBe(1);
    const lines = ctx.err.lines();
    expect(lines[0]).toBe('coattail_jobs: pip could not install the packages for x86_64: ERROR: no pandas');
    const heading = /^last 20 lines of pip's log \((.*)\):$/.exec(lines[1]!);
    expect(heading?.[1]).toMatch(LOG);
    expect(lines.slice(2)).toEqual(Array.from({ length: 20 }, (_, i) => `pip line ${i + 11}`));
    expect(existsSync(path.join(cwd, 'v.tar.gz'))).toBe(false);
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
