import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reprocess } from '../../src/commands/reprocess.js';
import { createLogger } from '../../src/core/logger.js';
import { repoRoot } from '../../src/spark/python.js';
import { sparkLog, stageOf } from '../../src/spark/spark-log.js';
import { Capture, tempDir, testContext } from '../helpers/context.js';

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

describe("a real local Spark run's output", () => {
  const venv = path.join(repoRoot(), 'jobs-py', '.venv', 'bin', 'python');
  // This checkout's coattail_jobs first, whichever checkout the virtualenv was installed from (editable).
  const env = { ...process.env, COATTAIL_PYTHON: venv, PYTHONPATH: path.join(repoRoot(), 'jobs-py') };
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
