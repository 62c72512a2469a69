/**
 * The local engine of `ddl apply --local`: the pending statements go, as a JSON plan on stdin, to
 * `python -m coattail_jobs ddl-apply-local` (jobs-py/coattail_jobs/ddl_local.py), which translates each to
 * Spark SQL on the local Iceberg warehouse and answers one JSON line per statement. Spark's own chatter goes
 * to its log file (src/spark/spark-log.ts; the terminal with -v); the Python's own stderr is kept back and its
 * last line, with the log's tail, shown only if the process fails without saying why.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { CommandContext } from '../core/context.js';
import { CoattailError, errorMessage } from '../core/errors.js';
import { ensureSparkJars } from '../spark/jars.js';
import { JOBS_PYTHON_FIX } from '../spark/python.js';
import { showSparkLogTail, sparkLog } from '../spark/spark-log.js';
import type { Engine, EngineOutcome } from './apply.js';
import type { PlannedStatement } from './plan.js';

interface EngineEvent {
  event: 'applied' | 'failed';
  key: string;
  reason?: string;
}

export function localEngine(python: string, warehouse: string, ctx: CommandContext): Engine {
  return async (pending, onOutcome) => {
    // Spark's output is held back below: the jars' first download shows its progress here instead.
    await ensureSparkJars(python, ctx);
    const log = sparkLog('ddl-apply', ctx);
    return new Promise<void>((resolve, reject) => {
      const child = spawn(python, ['-m', 'coattail_jobs', 'ddl-apply-local', '--warehouse', warehouse], {
        cwd: ctx.cwd,
        env: log.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const byKey = new Map<string, PlannedStatement>(pending.map((st) => [st.key, st]));
      const stderrTail: string[] = [];
      let answered = 0;
      let chain = Promise.resolve();
      let failed: unknown;
      let sawFailure = false;
      createInterface({ input: child.stderr }).on('line', (line) => {
        if (ctx.logger.enabled('debug')) ctx.stderr.write(`${line}\n`);
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        let event: EngineEvent;
        try {
          event = JSON.parse(line) as EngineEvent;
        } catch {
          ctx.logger.debug('ddl-apply-local printed a non-event line', { line });
          return;
        }
        const st = byKey.get(event.key);
        if (!st) return;
        answered++;
        if (event.event === 'failed') sawFailure = true;
        const outcome: EngineOutcome = event.event === 'applied' ? { ok: true } : { ok: false, reason: event.reason ?? 'no reason given' };
        chain = chain.then(async () => {
          if (failed) return;
          await onOutcome(st, outcome).catch((err: unknown) => {
            // Stop the statements after it: they would run unrecorded.
            failed = err;
            child.kill('SIGTERM');
          });
        });
      });
      child.once('error', (err) => reject(new CoattailError(`cannot run ${python}`, errorMessage(err), JOBS_PYTHON_FIX)));
      child.once('close', (code) => {
        void chain.then(() => {
          if (failed) return reject(failed);
          // A failed statement was reported through onOutcome; anything else short of all answered is a crash.
          if (sawFailure || (code === 0 && answered === pending.length)) return resolve();
          const why = stderrTail.filter((l) => l.trim()).pop() ?? `exit status ${code}`;
          showSparkLogTail(log, ctx);
          reject(
            new CoattailError(
              'the local DDL apply failed',
              `${answered} of ${pending.length} statement(s) answered; ${why}`,
              "run with --verbose to see Spark's output",
            ),
          );
        });
      });
      child.stdin.end(JSON.stringify({ statements: pending.map((st) => ({ key: st.key, file: st.file, sql: st.sql })) }));
    });
  };
}
