/** The running phase of a demo: the live view, or a headless wait with progress lines, until a reason to stop. */
import { createDynamoClient } from '../aws/dynamodb.js';
import { sleep } from '../core/backoff.js';
import type { CommandContext } from '../core/context.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { setLongTimeout, type LongTimeout } from '../core/timers.js';
import { countAlerts, type AlertCounts } from './alerts.js';
import type { RunningApps } from './apps.js';
import type { DemoHooks, DemoStoreEnv } from './hooks.js';
import type { DemoIngest } from './ingest.js';
import type { DemoLog } from './log.js';
import type { Market } from './market.js';
import type { DemoPlan } from './plan.js';

/** The stop reason of SIGINT/SIGTERM. */
export const INTERRUPTED = 'interrupted';
/** How often a headless run reports progress on stderr. */
const PROGRESS_INTERVAL_MS = 15_000;
/** After a bounded scenario prints its last trade, how long the ingest may take to read what is on the wire. */
const LAST_FRAMES_MS = 1_000;
/** How long the live view may take to unmount when the demo ends for another reason. */
const VIEW_EXIT_MS = 5_000;

/** Resolves with the first reason the run should end. */
function firstOf(reasons: Array<Promise<string>>): Promise<string> {
  return Promise.race(reasons);
}

function aborted(signal: AbortSignal, reason: string): Promise<string> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(reason);
    else signal.addEventListener('abort', () => resolve(reason), { once: true });
  });
}

async function alertCountsOrNothing(env: DemoStoreEnv, logger: Logger): Promise<AlertCounts | undefined> {
  const client = createDynamoClient({ endpoint: env.dynamodbEndpoint, region: env.region, requestTimeoutMs: 10_000, local: true });
  try {
    return await countAlerts(client, env.alertsTable);
  } catch (err) {
    logger.debug('could not count the alerts', { error: errorMessage(err) });
    return undefined;
  } finally {
    client.destroy();
  }
}

export interface Running {
  market: Market;
  spark: RunningApps;
  ingest: DemoIngest;
  store: DemoStoreEnv;
  log: DemoLog;
  hooks: DemoHooks;
}

/** Runs the live view or waits headless; resolves with why the run ends. */
export async function runUntilStop(plan: DemoPlan, ctx: CommandContext, r: Running): Promise<string> {
  const { logger } = r.log;
  const stop = new AbortController();
  const reasons: Array<Promise<string>> = [
    aborted(ctx.signal, INTERRUPTED),
    r.spark.anyExited,
    r.ingest.result.then(() => 'the ingest ended'),
    r.market.done.then(async () => {
      await sleep(LAST_FRAMES_MS);
      return 'the scenario ended';
    }),
  ];
  let durationTimer: LongTimeout | undefined;
  if (plan.durationMs !== undefined) {
    const ms = plan.durationMs;
    reasons.push(new Promise((resolve) => (durationTimer = setLongTimeout(() => resolve(`--duration ${ms / 1000}s`), ms))));
  }
  let progress: NodeJS.Timeout | undefined;
  let view: Promise<void> | undefined;
  if (!plan.headless && r.hooks.ui) {
    r.log.mute(true);
    const viewCtx: CommandContext = { ...ctx, logger, signal: stop.signal };
    view = r.hooks.ui({ ...r.store, ctx: viewCtx, sinceMs: r.market.startedAtMs });
    reasons.push(view.then(() => 'the view was closed'));
  } else {
    const started = Date.now();
    const until =
      plan.durationMs !== undefined
        ? ` of ${plan.durationMs / 1000}s`
        : plan.scenario?.durationSeconds
          ? ` of the scenario's ${plan.scenario.durationSeconds}s`
          : '; Ctrl-C stops';
    logger.info(`running${until}`);
    progress = setInterval(() => {
      void alertCountsOrNothing(r.store, logger).then((counts) =>
        logger.info('progress', { elapsed_s: Math.round((Date.now() - started) / 1000), trades_in: r.ingest.sent(), ...(counts ?? {}) }),
      );
    }, PROGRESS_INTERVAL_MS);
  }
  try {
    return await firstOf(reasons);
  } finally {
    durationTimer?.clear();
    clearInterval(progress);
    stop.abort();
    if (view) {
      // The view unmounts on the abort; a view that hangs must not hold the demo (and its processes) up.
      await Promise.race([
        view.catch((err: unknown) => logger.error('the live view failed', { error: errorMessage(err) })),
        sleep(VIEW_EXIT_MS),
      ]);
      r.log.mute(false);
    }
  }
}
