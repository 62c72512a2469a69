import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reprocess } from '../../src/commands/reprocess.js';
import { createLogger } from '../../src/core/logger.js';
import { packageRoot } from '../../src/core/dirs.js';
import type { ChildRun } from '../../src/core/child.js';
import { runSpark, sparkLog, stageOf } from '../../src/spark/spark-log.js';
import { Capture, tempDir, testContext, waitFor } from '../helpers/context.js';
import { FakeTerminal } from '../helpers/terminal.js';

describe("Spark's log file", () => {
  it('is named in one line and handed to the jobs; with -v there is none and the environment is untouched', () => {
    const cwd = tempDir('spark-log');
    const err = new Capture();
    const ctx = testContext({
      cwd,
      env: { A: '1' },
      stderr: err,
      logger: createLogger(err, { level: 'info', clock: () => 0 }),
      clock: { now: () => Date.UTC(2026, 0, 2, 3, 4, 5) },
    });
    const log = sparkLog('backfill', ctx);
    expect(log.file).toBe(path.join(cwd, '.coattail/logs/backfill-20260102T030405Z.log'));
    expect(log.env).toEqual({ A: '1', COATTAIL_SPARK_LOG: log.file });
    expect(err.lines().map((l) => l.replace(/^\S+ info\s+/, ''))).toEqual([
      "Spark's own output goes to .coattail/logs/backfill-20260102T030405Z.log (-v shows it here)",
    ]);

    const verbose = testContext({ cwd, env: { A: '1' }, logger: createLogger(new Capture(), { level: 'debug' }) });
    expect(sparkLog('backfill', verbose)).toEqual({ file: undefined, env: { A: '1' } });
  });

  it("takes the stage from the message of a job's log line", () => {
    expect(stageOf('2026-12-07 23:15:00,123 INFO coattail_jobs.batch.reprocess read 120 alerts')).toBe('read 120 alerts');
    expect(stageOf('coattail: Spark jars ready in 3 s')).toBe('coattail: Spark jars ready in 3 s');
  });
});

describe('a local Spark run with a stage', () => {
  /** A stand-in for the jobs' Python: a log line, Spark's line into its log, then (once `go` exists) the result. */
  function child(dir: string, exitCode: number): { run: ChildRun; go: string } {
    const go = path.join(dir, 'go');
    const script = `const fs = require('node:fs');
process.stderr.write('2026-12-07 23:15:00,123 INFO coattail_jobs.batch.reprocess read 120 alerts\\n');
if (process.env.COATTAIL_SPARK_LOG) fs.writeFileSync(process.env.COATTAIL_SPARK_LOG, 'WARN NativeCodeLoader: no native-hadoop\\n');
const t = setInterval(() => {
  if (!fs.existsSync(${JSON.stringify(go)})) return;
  clearInterval(t);
  process.stdout.write('{"rows":3}\\n');
  process.exit(${exitCode});
}, 20);`;
    return {
      go,
      run: { program: process.execPath, args: ['-e', script], captureStdout: true, cannotRunFix: 'x', what: 'the job', killedFix: 'y' },
    };
  }

  it('on a terminal draws the stage, the latest log line, in a spinner with the lines above it', async () => {
    const cwd = tempDir('spark-stage');
    const tty = new FakeTerminal();
    const ctx = testContext({ cwd, env: { TERM: 'xterm' }, stderr: tty, logger: createLogger(tty, { level: 'info' }) });
    const { run, go } = child(cwd, 0);
    const running = runSpark(run, { command: 'reprocess', stage: 'reprocessing' }, ctx);
    await waitFor(() => tty.text().includes('reprocessing: read 120 alerts'), 10_000, 'the spinner to draw the stage');
    writeFileSync(go, '');
    expect(await running).toEqual({ code: 0, stdout: '{"rows":3}\n' });
    expect(tty.text()).toContain('2026-12-07 23:15:00,123 INFO coattail_jobs.batch.reprocess read 120 alerts\n');
    expect(tty.text()).not.toContain('NativeCodeLoader');
  });

  it("off a terminal passes the job's lines as they are; a failure shows the tail of Spark's log", async () => {
    const cwd = tempDir('spark-stage');
    const err = new Capture();
    const ctx = testContext({ cwd, stderr: err, logger: createLogger(err, { level: 'info', clock: () => 0 }) });
    const { run, go } = child(cwd, 1);
    writeFileSync(go, '');
    expect((await runSpark(run, { command: 'reprocess', stage: 'reprocessing' }, ctx)).code).toBe(1);
    const lines = err.lines().map((l) => l.replace(/^\S+ info\s+/, ''));
    expect(err.text()).not.toContain('\x1b');
    expect(lines[0]).toMatch(/^Spark's own output goes to \.coattail\/logs\/reprocess-\d{8}T\d{6}Z\.log \(-v shows it here\)$/);
    expect(lines.slice(1, 3)).toEqual([
      'reprocessing: starting Spark',
      '2026-12-07 23:15:00,123 INFO coattail_jobs.batch.reprocess read 120 alerts',
    ]);
    expect(lines[3]).toMatch(/^last 1 lines of Spark's log \(\.coattail\/logs\/reprocess-\d{8}T\d{6}Z\.log\):$/);
    expect(lines.slice(4)).toEqual(['WARN NativeCodeLoader: no native-hadoop']);
  });
});

describe("a real local Spark run's output", () => {
  const venv = path.join(packageRoot(), 'jobs-py', '.venv', 'bin', 'python');
  // This checkout's coattail_jobs first, whichever checkout the virtualenv was installed from (editable).
  const env = { ...process.env, COATTAIL_PYTHON: venv, PYTHONPATH: path.join(packageRoot(), 'jobs-py') };
  // What local Spark says at every start, from the JVM: never from the jobs' Python.
  const chatter = /Setting default log level|NativeCodeLoader|log4j|:: resolving dependencies ::/;

  it('goes to the log file, the job’s own line to the terminal; with -v all of it to the terminal', { timeout: 480_000 }, async () => {
    expect(existsSync(venv), 'the jobs need their Python environment: run make install-py').toBe(true);
    const cwd = tempDir('spark-log-run');
    const err = new Capture();
    const ctx = testContext({
      cwd,
      env,
      stderr: err,
      logger: createLogger(err, { level: 'info' }),
    });
    // An empty warehouse: Spark starts, the job says there is nothing to reprocess and exits 2.
    expect(await reprocess({ asOf: '2024-05-01T12:00:00Z', warehouse: 'wh' }, ctx)).toBe(2);
    const logs = readdirSync(path.join(cwd, '.coattail', 'logs'));
    expect(logs).toHaveLength(1);
    const logFile = path.join('.coattail', 'logs', logs[0]!);
    const logText = readFileSync(path.join(cwd, logFile), 'utf8');
    expect(logText).toMatch(chatter);
    const shownAbove = err.text().split(`last `)[0]!; // before the failure's tail of the log
    expect(shownAbove).not.toMatch(chatter);
    expect(err.text()).toContain(`Spark's own output goes to ${logFile} (-v shows it here)`);
    expect(err.lines()).toContain(
      'coattail_jobs: no table coattail.crypto_pulse.raw_trades: there is nothing to reprocess; archive trades first (raw-archiver)',
    );
    expect(err.text()).toMatch(new RegExp(`last \\d+ lines of Spark's log \\(${logFile.replace(/\./g, '\\.')}\\):`));
    expect(ctx.out.text()).toBe('');

    const verboseErr = new Capture();
    const verbose = testContext({
      cwd: tempDir('spark-log-run'),
      env,
      stderr: verboseErr,
      logger: createLogger(verboseErr, { level: 'debug' }),
    });
    expect(await reprocess({ asOf: '2024-05-01T12:00:00Z', warehouse: 'wh' }, verbose)).toBe(2);
    expect(verboseErr.text()).toMatch(chatter);
    expect(existsSync(path.join(verbose.cwd, '.coattail', 'logs'))).toBe(false);
  });
});
