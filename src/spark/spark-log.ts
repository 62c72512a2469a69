/**
 * Where local Spark's own output goes. Its start-up chatter (the ivy report, NativeCodeLoader, the log-level
 * banner, log4j lines) would fill the terminal on every run, so unless -v it goes to a log file under
 * `.coattail/logs/`, named in one line; the jobs' Python sends only its child processes (the JVM) there
 * (jobs-py/coattail_jobs/spark_log.py), its own log lines and result stay on stderr and stdout. When the run
 * fails, the log's last lines are shown with its path. A batch run (reprocess, backfill) also gets a spinner
 * saying its stage: the message of the job's latest log line.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { runChild, type ChildRun } from '../core/child.js';
import type { CommandContext } from '../core/context.js';
import { commandLogPath, showLogTail, shownPath } from '../core/log-file.js';
import { startTask } from '../core/progress.js';

/** Read by the jobs' Python (spark_log.ENV): the file Spark's own output goes to. */
export const SPARK_LOG_ENV = 'COATTAIL_SPARK_LOG';

export interface SparkLog {
  /** The log file, or undefined with -v (Spark's output then goes to the terminal as it comes). */
  file: string | undefined;
  /** The environment for the jobs' Python. */
  env: NodeJS.ProcessEnv;
}

/** Chooses where Spark's output goes for `command` and says so in one line (none with -v). */
export function sparkLog(command: string, ctx: CommandContext): SparkLog {
  if (ctx.logger.enabled('debug')) return { file: undefined, env: ctx.env };
  const file = commandLogPath(command, ctx.cwd, ctx.clock.now());
  mkdirSync(path.dirname(file), { recursive: true });
  ctx.logger.info(`Spark's own output goes to ${shownPath(file, ctx.cwd)} (-v shows it here)`);
  return { file, env: { ...ctx.env, [SPARK_LOG_ENV]: file } };
}

/** After a failed run: the last lines of Spark's log on stderr, with its path (nothing when it is empty). */
export function showSparkLogTail(log: SparkLog, ctx: CommandContext): void {
  if (log.file) showLogTail(log.file, "Spark's", ctx);
}

export interface SparkRun {
  /** Names the log file: `replay`, `reprocess`. */
  command: string;
  /** For a run whose stdout is kept (a batch job's result): the spinner's name, e.g. `reprocessing`. */
  stage?: string;
}

/** `2026-12-07 23:15:00,123 INFO coattail_jobs.batch.reprocess read 120 alerts` → `read 120 alerts`. */
export function stageOf(line: string): string {
  const m = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ \S+ (.*)$/.exec(line);
  return (m ? m[1]! : line).slice(0, 100);
}

/** Runs the jobs' Python as `child` with Spark's output in its log file (sparkLog), the tail shown on failure. */
export async function runSpark(child: ChildRun, spark: SparkRun, ctx: CommandContext): Promise<{ code: number; stdout: string }> {
  const log = sparkLog(spark.command, ctx);
  const stage = spark.stage;
  // The job's own lines stay above the spinner; off a terminal they are all there is (no repeated stage lines).
  const task = stage ? startTask(ctx, `${stage}: starting Spark`, { rawLines: true, plainEveryMs: Infinity }) : undefined;
  let result: { code: number; stdout: string };
  try {
    result = await runChild(
      {
        ...child,
        env: log.file ? { ...(child.env ?? ctx.env), [SPARK_LOG_ENV]: log.file } : (child.env ?? ctx.env),
        ...(task && stage
          ? {
              onStderrLine: (line: string) => {
                task.line(line);
                task.update(`${stage}: ${stageOf(line)}`);
              },
            }
          : {}),
      },
      ctx,
    );
  } catch (err) {
    task?.stop();
    showSparkLogTail(log, ctx);
    throw err;
  }
  task?.stop();
  if (result.code !== 0 && result.code !== 130) showSparkLogTail(log, ctx);
  return result;
}
