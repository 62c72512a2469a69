/**
 * The four streaming jobs in one local Spark application: `python -m coattail_jobs pipeline ...`
 * (jobs-py/coattail_jobs/__main__.py). It prints two JSON lines on stdout, `started` once every query
 * runs and `stopped` with the rows per Iceberg table at the end; Spark's logs go to a file.
 *
 * It runs in its own process group (the Python driver and the JVM it launches), so a terminal's
 * Ctrl-C reaches only `coattail`, which SIGTERMs the driver (it stops the queries between
 * micro-batches), waits, and SIGKILLs the whole group if it overstays its grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { CoattailError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { jobSpec, type JobName } from '../spark/jobs.js';
import { killGroupAndWait, waitGroupGone, type ChildGroups } from './children.js';

export type StreamingJob = JobName;

/** The queries each job reads Kinesis with (the catalogue's): `<checkpoint root>/<job>/<query>`. Each runs a first micro-batch even on an empty stream. */
export function kinesisQueries(job: StreamingJob): readonly string[] {
  return jobSpec(job).queries;
}

/** The tables the `stopped` event counts, in the order the summary lists them. */
export const TABLES = ['raw_trades', 'volume_aggregates', 'anomalies', 'whale_trades', 'spreads', 'alerts'] as const;
export type TableName = (typeof TABLES)[number];

export interface PipelineSettings {
  jobs: readonly StreamingJob[];
  kinesisEndpoint: string;
  dynamodbEndpoint: string;
  region: string;
  stream: string;
  alertsTable: string;
  warehouse: string;
  checkpointRoot: string;
  rawRoot: string;
  /** Every job's watermark unless a job setting names its own. */
  watermark?: string;
  /** Every job's trigger unless a job setting names its own. */
  trigger?: string;
  /** `JOB:NAME=VALUE`, passed as `--set`; later ones win. */
  jobSettings: readonly string[];
}

export interface StartedEvent {
  event: 'started';
  jobs: string[];
  queries: string[];
}

export interface StoppedEvent {
  event: 'stopped';
  failed: string[];
  rows: Partial<Record<TableName, number>>;
  /** Per job, the rows its watermarks dropped as late (each one a trade the windows and alerts never saw). */
  late_rows?: Record<StreamingJob, number>;
}

export interface PipelineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The Python arguments (after the interpreter) of one pipeline run. */
export function pipelineArgs(s: PipelineSettings): string[] {
  return [
    '-m',
    'coattail_jobs',
    'pipeline',
    '--jobs',
    s.jobs.join(','),
    '--mode',
    'local',
    '--region',
    s.region,
    '--stream',
    s.stream,
    '--alerts-table',
    s.alertsTable,
    '--kinesis-endpoint',
    s.kinesisEndpoint,
    '--dynamodb-endpoint',
    s.dynamodbEndpoint,
    '--warehouse',
    s.warehouse,
    '--checkpoint-root',
    s.checkpointRoot,
    '--raw-root',
    s.rawRoot,
    ...(s.watermark ? ['--watermark', s.watermark] : []),
    ...(s.trigger ? ['--trigger', s.trigger] : []),
    ...s.jobSettings.flatMap((x) => ['--set', x]),
    // The whale detector's write path, run once on a synthetic whale before the market opens: without
    // it the first whales wait 10-20 s for a cold JVM (docs/PERFORMANCE.md, "End-to-end latency").
    ...(s.jobs.includes('whale-detector') ? ['--warm-up'] : []),
  ];
}

/** The last lines of a log file (empty when it cannot be read), for errors people can act on. */
export function logTail(file: string, lines = 15): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .slice(-lines);
}

/** The most telling line of a failed start: the last one naming an error, else the last line. */
function lastError(tail: readonly string[]): string | undefined {
  const named = [...tail].reverse().find((l) => /error|exception|refused|denied|not found/i.test(l));
  return (named ?? tail[tail.length - 1])?.trim().slice(0, 300);
}

export class SparkPipeline {
  readonly pid: number | undefined;
  readonly exited: Promise<PipelineExit>;
  private startedEvent: StartedEvent | undefined;
  private stoppedEvent: StoppedEvent | undefined;
  private exit: PipelineExit | undefined;
  private readonly startedWaiters: Array<() => void> = [];
  private stopping: Promise<StoppedEvent | undefined> | undefined;
  /** Resolves once every line the driver printed has been read ('exit' can come before the last of them). */
  private stdoutDone: Promise<void> = Promise.resolve();

  private constructor(
    private readonly child: ChildProcess,
    readonly logFile: string,
    private readonly children: ChildGroups,
    private readonly logger: Logger,
  ) {
    this.pid = child.pid;
    children.add(child.pid, 'Spark jobs');
    this.exited = new Promise<PipelineExit>((resolve) => {
      child.once('error', (err) => {
        logger.error('cannot run the Spark jobs', { error: errorMessage(err) });
        this.exit = { code: 127, signal: null };
        resolve(this.exit);
      });
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        logger.debug('the Spark jobs exited', { code, signal });
        resolve(this.exit);
      });
    });
    this.exited.then(() => this.wake());
    if (child.stdout) {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => this.onLine(line));
      this.stdoutDone = new Promise<void>((resolve) => lines.once('close', () => resolve()));
    }
  }

  /** Spawns the driver detached, stdout piped (its two events), stderr into the log file. */
  static start(
    python: string,
    args: string[],
    opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; children: ChildGroups; logger: Logger },
  ): SparkPipeline {
    const log = openSync(opts.logFile, 'w');
    try {
      const child = spawn(python, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', log] });
      return new SparkPipeline(child, opts.logFile, opts.children, opts.logger);
    } finally {
      closeSync(log);
    }
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get stopped(): StoppedEvent | undefined {
    return this.stoppedEvent;
  }

  get exitStatus(): PipelineExit | undefined {
    return this.exit;
  }

  private onLine(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.logger.debug('spark stdout', { line: line.slice(0, 200) }); // not an event: a stray print
      return;
    }
    const event = (parsed as { event?: unknown }).event;
    if (event === 'started') {
      this.startedEvent = parsed as StartedEvent;
      this.wake();
    } else if (event === 'stopped') {
      this.stoppedEvent = parsed as StoppedEvent;
    } else {
      this.logger.debug('spark stdout', { line: line.slice(0, 200) });
    }
  }

  private wake(): void {
    for (const w of this.startedWaiters.splice(0)) w();
  }

  /**
   * Resolves with the `started` event; throws a CoattailError (after writing the log's tail to
   * `tailOut`) if the driver exits first or the time runs out, or `onAbort()` when the signal aborts.
   */
  async waitStarted(
    timeoutMs: number,
    signal: AbortSignal,
    tailOut: (lines: string[]) => void,
    onAbort: () => Error,
  ): Promise<StartedEvent> {
    const deadline = Date.now() + timeoutMs;
    while (!this.startedEvent) {
      if (signal.aborted) throw onAbort();
      if (this.exit) {
        const tail = logTail(this.logFile);
        tailOut(tail);
        const how = this.exit.code !== null ? `exited with code ${this.exit.code}` : `was killed by ${this.exit.signal}`;
        throw new CoattailError(
          'the Spark jobs did not start',
          `the driver ${how}${tail.length ? ` (${lastError(tail)})` : ''}`,
          `See the whole log in ${this.logFile}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        tailOut(logTail(this.logFile));
        throw new CoattailError(
          'the Spark jobs did not start',
          `no 'started' after ${Math.round(timeoutMs / 1000)} s`,
          `See the log in ${this.logFile}; on a busy machine raise --start-timeout`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 500));
        function done(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        this.startedWaiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return this.startedEvent;
  }

  /**
   * SIGTERM to the driver (it stops every query between micro-batches and prints `stopped`), then,
   * after `graceMs`, SIGKILL to the whole group. Resolves with the `stopped` event if there was one,
   * once no process of the group is left.
   */
  stop(graceMs: number): Promise<StoppedEvent | undefined> {
    this.stopping ??= (async () => {
      const pgid = this.pid;
      if (pgid === undefined) return undefined;
      let inTime = true;
      if (this.running) {
        try {
          process.kill(pgid, 'SIGTERM');
        } catch {
          /* exited meanwhile */
        }
        let timer: NodeJS.Timeout | undefined;
        inTime = await Promise.race([
          this.exited.then(() => true),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs))),
        ]);
        clearTimeout(timer);
        if (!inTime) this.logger.warn('the Spark jobs did not stop in time; killing them', { grace_s: Math.round(graceMs / 1000) });
      }
      // Once the driver is gone, its JVM leaves as the pipe between them closes: a moment to do so.
      if (!inTime || !(await waitGroupGone(pgid, 5_000))) {
        const left = await killGroupAndWait(pgid);
        if (left.length > 0) this.logger.error('processes of the Spark jobs survived SIGKILL', { pids: left.join(',') });
      }
      this.children.forget(pgid);
      // Every process that held the pipe is gone: its last lines (`stopped`) are at most a moment away.
      let read: NodeJS.Timeout | undefined;
      await Promise.race([this.stdoutDone, new Promise<void>((r) => (read = setTimeout(r, 2_000)))]);
      clearTimeout(read);
      return this.stoppedEvent;
    })();
    return this.stopping;
  }
}
