/**
 * The demo's Spark applications. By default two: the whale detector alone, and the three windowed
 * jobs together at a lower CPU priority. On a small machine a whale batch in a shared application
 * waits for cores behind the other queries' MERGEs (measured in docs/PERFORMANCE.md); in its own JVM,
 * with the bulk work niced, the operating system gives it the CPU first. `--spark-apps 1` runs all
 * four jobs in one application instead. Each application is `python -m coattail_jobs pipeline`.
 */
import { setPriority } from 'node:os';
import path from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ChildGroups } from './children.js';
import {
  pipelineArgs,
  SparkPipeline,
  type PipelineSettings,
  type StartedEvent,
  type StoppedEvent,
  type StreamingJob,
  type TableName,
} from './spark.js';

export interface SparkApp {
  name: string;
  jobs: StreamingJob[];
  /** Added to the process's nice value (higher runs later); 0 leaves it as it is. */
  niceness: number;
  /** The application's spark.sql.shuffle.partitions (through COATTAIL_SHUFFLE_PARTITIONS). */
  shufflePartitions: string;
}

/** The applications for the jobs: the whale detector apart unless one application is asked for. */
export function sparkApps(jobs: readonly StreamingJob[], count: 1 | 2): SparkApp[] {
  // One shuffle partition: a micro-batch holds seconds of trades, and on a few cores shared by several
  // queries a second partition only adds a task (and a state store) per stateful step.
  if (count === 1 || !jobs.includes('whale-detector') || jobs.length === 1)
    return [{ name: 'jobs', jobs: [...jobs], niceness: 0, shufflePartitions: '1' }];
  return [
    { name: 'whales', jobs: ['whale-detector'], niceness: 0, shufflePartitions: '1' },
    { name: 'windows', jobs: jobs.filter((j) => j !== 'whale-detector'), niceness: 10, shufflePartitions: '1' },
  ];
}

export interface RunningApps {
  pipelines: SparkPipeline[];
  logFiles: string[];
  readonly running: boolean;
  /** Resolves when any of them exits. */
  anyExited: Promise<string>;
  waitStarted(
    timeoutMs: number,
    signal: AbortSignal,
    tailOut: (file: string, lines: string[]) => void,
    onAbort: () => Error,
  ): Promise<StartedEvent[]>;
  /** Stops all (in parallel); the row counts of the last to count, table by table (rows only grow). */
  stop(graceMs: number): Promise<{ stopped: StoppedEvent | undefined; missing: string[] }>;
}

export function startApps(
  apps: readonly SparkApp[],
  python: string,
  settings: Omit<PipelineSettings, 'jobs'>,
  opts: { cwd: string; env: NodeJS.ProcessEnv; logDir: string; children: ChildGroups; logger: Logger },
): RunningApps {
  const pipelines = apps.map((app) => {
    const logFile = path.join(opts.logDir, apps.length === 1 ? 'spark.log' : `spark-${app.name}.log`);
    const env = { ...opts.env, COATTAIL_SHUFFLE_PARTITIONS: opts.env.COATTAIL_SHUFFLE_PARTITIONS || app.shufflePartitions };
    const args = pipelineArgs({ ...settings, jobs: app.jobs });
    opts.logger.debug('spark command', { app: app.name, args: args.join(' ') });
    const p = SparkPipeline.start(python, args, {
      cwd: opts.cwd,
      env,
      logFile,
      children: opts.children,
      logger: opts.logger.child({ spark: app.name }),
    });
    if (app.niceness && p.pid) {
      try {
        // Before the driver launches its JVM, which inherits the value.
        setPriority(p.pid, app.niceness);
      } catch (err) {
        opts.logger.debug('could not lower the priority of the windowed jobs', { error: errorMessage(err) });
      }
    }
    return p;
  });
  const names = apps.map((a) => a.name);
  return {
    pipelines,
    logFiles: pipelines.map((p) => p.logFile),
    get running() {
      return pipelines.every((p) => p.running);
    },
    anyExited: Promise.race(
      pipelines.map((p, i) => p.exited.then((e) => `the Spark application '${names[i]}' exited (${e.code ?? e.signal})`)),
    ),
    waitStarted: (timeoutMs, signal, tailOut, onAbort) =>
      Promise.all(pipelines.map((p) => p.waitStarted(timeoutMs, signal, (lines) => tailOut(p.logFile, lines), onAbort))),
    stop: async (graceMs) => {
      const events = await Promise.all(pipelines.map((p) => p.stop(graceMs)));
      const missing = names.filter((_, i) => events[i] === undefined);
      const seen = events.filter((e): e is StoppedEvent => e !== undefined);
      if (seen.length === 0) return { stopped: undefined, missing };
      const rows: Partial<Record<TableName, number>> = {};
      for (const e of seen) for (const [t, n] of Object.entries(e.rows) as [TableName, number][]) rows[t] = Math.max(rows[t] ?? 0, n);
      // Each job runs in one application only: its count comes from there.
      const late: Record<StreamingJob, number> = Object.assign({}, ...seen.map((e) => e.late_rows ?? {}));
      return { stopped: { event: 'stopped', failed: seen.flatMap((e) => e.failed), rows, late_rows: late }, missing };
    },
  };
}
