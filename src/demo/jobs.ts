/** The Spark side of a run: starting the applications (awaited until warm) and draining them at the end. */
import { createKinesisClient } from '../aws/kinesis.js';
import type { CommandContext } from '../core/context.js';
import { CoattailError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { sparkApps, startApps, type RunningApps } from './apps.js';
import type { ChildGroups } from './children.js';
import { drain } from './drain.js';
import { interrupted } from './emulators.js';
import type { Folders } from './folders.js';
import type { DemoStoreEnv } from './hooks.js';
import type { DemoPlan } from './plan.js';
import { waitFirstBatches } from './progress.js';
import { kinesisQueries } from './spark.js';
import { writeSparkConf } from './spark-conf.js';

/** The longest drain after Ctrl-C. */
const INTERRUPTED_DRAIN_MS = 15_000;

/** Starts the Spark applications and waits until every query runs and has done its first micro-batch. */
export async function launchSpark(
  plan: DemoPlan,
  ctx: CommandContext,
  o: { python: string; dirs: Folders; store: DemoStoreEnv; children: ChildGroups; logger: Logger; runStarted: number },
): Promise<RunningApps> {
  const { dirs, store, logger } = o;
  const env = {
    ...ctx.env,
    // A conf folder the user set up is theirs to keep; otherwise the demo's (see spark-conf.ts).
    SPARK_CONF_DIR: ctx.env.SPARK_CONF_DIR || writeSparkConf(dirs.conf),
    PYTHONUNBUFFERED: '1',
  };
  const apps = sparkApps(plan.jobs, plan.sparkApps);
  const running = startApps(
    apps,
    o.python,
    {
      kinesisEndpoint: store.kinesisEndpoint,
      dynamodbEndpoint: store.dynamodbEndpoint,
      region: plan.region,
      stream: plan.stream,
      alertsTable: plan.alertsTable,
      warehouse: dirs.warehouse,
      checkpointRoot: dirs.checkpoints,
      rawRoot: dirs.raw,
      trigger: plan.trigger,
      jobSettings: plan.jobSettings,
      ...(plan.watermark ? { watermark: plan.watermark } : {}),
    },
    { cwd: ctx.cwd, env, logDir: dirs.logs, children: o.children, logger },
  );
  logger.info(
    `starting the Spark jobs in ${apps.length === 1 ? 'one application' : `${apps.length} applications`} (a JVM each: 20 to 60 s)`,
    {
      apps: apps.map((a) => `${a.name}=${a.jobs.join('+')}`).join(' '),
      logs: running.logFiles.join(','),
    },
  );
  const startedEvents = await running.waitStarted(
    plan.startTimeoutMs,
    ctx.signal,
    (file, tail) => {
      if (tail.length) ctx.stderr.write(`--- last lines of ${file} ---\n${tail.join('\n')}\n---\n`);
    },
    interrupted,
  );
  logger.info('the Spark jobs run; waiting for their first micro-batches (planning, compiling, loading state)', {
    queries: startedEvents.flatMap((e) => e.queries).join(','),
  });
  const firstQueries = plan.jobs.flatMap((j) => kinesisQueries(j).map((q) => `${j}/${q}`));
  const left = Math.max(0, plan.startTimeoutMs - (Date.now() - o.runStarted));
  const warm = await waitFirstBatches(dirs.checkpoints, firstQueries, left, ctx.signal, () => !running.running);
  if (ctx.signal.aborted) throw interrupted();
  if (!running.running)
    throw new CoattailError('the Spark jobs stopped while starting', await running.anyExited, `See ${running.logFiles.join(' and ')}`);
  if (!warm)
    logger.warn('not every query finished its first micro-batch in time; the first alerts will be slow', {
      logs: running.logFiles.join(','),
    });
  return running;
}

/** After the ingest stopped: waits (bounded) until the jobs have finished what is in flight (see drain.ts). */
export async function drainJobs(
  plan: DemoPlan,
  dirs: Folders,
  store: DemoStoreEnv,
  spark: RunningApps,
  interruptedByUser: boolean,
  logger: Logger,
): Promise<void> {
  // Whoever pressed Ctrl-C wants to be done: a shorter drain then (and a second Ctrl-C ends it all at once).
  const drainMs = interruptedByUser ? Math.min(plan.drainTimeoutMs, INTERRUPTED_DRAIN_MS) : plan.drainTimeoutMs;
  logger.info(`letting the jobs finish what is in flight${interruptedByUser ? ' (Ctrl-C again to stop at once)' : ''}`, {
    up_to_s: Math.round(drainMs / 1000),
  });
  const client = createKinesisClient({ endpoint: store.kinesisEndpoint, region: plan.region, local: true });
  try {
    const drained = await drain({
      checkpointRoot: dirs.checkpoints,
      warehouse: dirs.warehouse,
      client,
      stream: plan.stream,
      timeoutMs: drainMs,
      gone: () => !spark.running,
    });
    if (drained.outcome === 'timeout')
      logger.warn('the jobs were still busy when the drain ran out; stopping them anyway', {
        drain_s: Math.round(drainMs / 1000),
        pending: drained.pending.join('; '),
      });
    else logger.debug('drained', { outcome: drained.outcome });
  } finally {
    client.destroy();
  }
}
