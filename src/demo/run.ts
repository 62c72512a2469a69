/**
 * `coattail demo`, start to finish: the emulators on free ports → the stream and the alert table →
 * the four streaming jobs in local Spark (awaited until every query has run a first batch) → the
 * market (simulator or live) → ingest into the local Kinesis → the live view, or a wait for
 * --duration → stop the ingest (flushed) → a drain until the jobs are done → stop the jobs (their
 * row counts) → the alerts and their latency from the store → stop the rest → the summary.
 *
 * Every process it starts runs in its own process group and is stopped on every path out, Ctrl-C
 * included; a second Ctrl-C (which exits at once) SIGKILLs them from the exit hook.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createDynamoClient } from '../aws/dynamodb.js';
import { useColor, type CommandContext } from '../core/context.js';
import { CoattailError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isoFromMillis } from '../core/time.js';
import type { IngestResult } from '../ingest/pipeline.js';
import { dynaliteServerScript } from '../local/processes.js';
import { ALERT_TYPES, type AlertType } from '../local/resources.js';
import { ensureSparkJars } from '../spark/jars.js';
import { alertsOfType, firstAlertSeconds, type AlertCounts } from './alerts.js';
import type { RunningApps } from './apps.js';
import { ChildGroups } from './children.js';
import { interrupted, startEmulators, type DemoEmulators } from './emulators.js';
import { prepareFolders } from './folders.js';
import type { DemoHooks, DemoStoreEnv } from './hooks.js';
import { demoExchangeSymbols, startIngest, type DemoIngest } from './ingest.js';
import { drainJobs, launchSpark } from './jobs.js';
import { alertLatencyMs, summarizeLatency } from './latency.js';
import { demoLog } from './log.js';
import { openMarket, type Market } from './market.js';
import type { DemoPlan } from './plan.js';
import type { DemoSummary } from './summary.js';
import { INTERRUPTED, runUntilStop } from './until-stop.js';
import { ensureJobsPython } from '../spark/python.js';

export type { DemoHooks, DemoStoreEnv, DemoUiEnv } from './hooks.js';

export interface DemoResult {
  summary: DemoSummary;
  /** What went wrong while running (a failed job, undelivered trades): the run still reports. */
  problems: CoattailError[];
}

async function checkPrerequisites(ctx: CommandContext): Promise<string> {
  if (!existsSync(dynaliteServerScript())) {
    throw new CoattailError(
      'cannot start the DynamoDB-compatible store',
      `${dynaliteServerScript()} is missing`,
      "Run 'make build' (or 'npm run build') first",
    );
  }
  return ensureJobsPython(ctx, { spark: true });
}

interface ReadAlerts {
  counts: AlertCounts;
  /** Per type, seconds from the market's start to its first alert written. */
  first: Record<AlertType, number | null>;
  latencies: number[];
}

/** Every alert type's count and first alert, and the whale alerts' latency, read once the jobs have stopped. */
async function readAlerts(env: DemoStoreEnv, marketStartedAtMs: number): Promise<ReadAlerts> {
  const client = createDynamoClient({ endpoint: env.dynamodbEndpoint, region: env.region, local: true });
  try {
    const byType = await Promise.all(ALERT_TYPES.map(async (t) => [t, await alertsOfType(client, env.alertsTable, t)] as const));
    const counts = Object.fromEntries(byType.map(([t, items]) => [t, items.length])) as AlertCounts;
    const first = Object.fromEntries(byType.map(([t, items]) => [t, firstAlertSeconds(items, marketStartedAtMs)])) as ReadAlerts['first'];
    const whales = byType.find(([t]) => t === 'whale')?.[1] ?? [];
    const latencies = whales.map(alertLatencyMs).filter((v): v is number => v !== undefined);
    return { counts, first, latencies };
  } finally {
    client.destroy();
  }
}

export async function runDemo(plan: DemoPlan, ctx: CommandContext, hooks: DemoHooks = {}): Promise<DemoResult> {
  const python = await checkPrerequisites(ctx);
  // Before any application starts (the demo starts two at once), with the download's progress on screen.
  await ensureSparkJars(python, ctx);
  const dirs = prepareFolders(plan);
  const log = demoLog(path.join(dirs.logs, 'demo.log'), ctx.stderr, ctx.logger, {
    color: useColor(ctx.env, ctx.stderr),
    json: ctx.env.COATTAIL_LOG_FORMAT === 'json',
  });
  const logger = log.logger;
  const children = new ChildGroups();
  const problems: CoattailError[] = [];
  let emulators: DemoEmulators | undefined;
  let spark: RunningApps | undefined;
  let market: Market | undefined;
  let ingest: DemoIngest | undefined;
  const runStarted = Date.now();

  try {
    logger.info('starting the local emulators (Kinesis, DynamoDB-compatible store)', { dir: plan.dir });
    emulators = await startEmulators({
      logDir: dirs.logs,
      stateDir: plan.dir,
      region: plan.region,
      stream: plan.stream,
      // One shard: each micro-batch then reads the trades in the order they arrived. With two, a batch's
      // read of one shard can run seconds after the other's on a busy machine, and the later read's event
      // times move the watermark past trades the earlier read has not reached yet: late drops the market
      // never caused. The emulator takes a few hundred aggregated records a second either way.
      shards: 1,
      alertsTable: plan.alertsTable,
      signal: ctx.signal,
      logger,
      children,
    });
    logger.info('the emulators run: read the trade stream with coattail tail, the alerts with coattail watch', {
      tail: `coattail tail --local --state-dir ${plan.dir}`,
    });
    const store: DemoStoreEnv = {
      region: plan.region,
      kinesisEndpoint: emulators.kinesisEndpoint,
      dynamodbEndpoint: emulators.dynamodbEndpoint,
      stream: plan.stream,
      alertsTable: plan.alertsTable,
    };

    spark = await launchSpark(plan, ctx, { python, dirs, store, children, logger, runStarted });

    market = await openMarket(
      {
        live: plan.live,
        ...(plan.scenario ? { scenario: plan.scenario } : {}),
        ...(plan.seed !== undefined ? { seed: plan.seed } : {}),
        ...(plan.alignSecond !== undefined ? { alignSecond: plan.alignSecond } : {}),
        ...(plan.recordFile ? { recordFile: plan.recordFile } : {}),
      },
      ctx.env,
      logger,
      ctx.signal,
    );
    if (ctx.signal.aborted) throw interrupted();
    logger.info(market.source === 'live' ? 'reading the live exchanges' : 'the market simulator runs', {
      scenario: plan.scenario?.name,
      seed: market.seed,
      binance: market.binanceUrl,
      coinbase: market.coinbaseUrl,
    });
    const exchangeSymbols = await demoExchangeSymbols(market.source, plan.symbols, ctx.env, ctx.cwd, logger, ctx.clock);
    ingest = startIngest({
      symbols: plan.symbols,
      exchangeSymbols,
      binanceUrl: market.binanceUrl,
      coinbaseUrl: market.coinbaseUrl,
      restUrls: { binance: market.binanceRestUrl, coinbase: market.coinbaseRestUrl },
      kinesisEndpoint: store.kinesisEndpoint,
      region: plan.region,
      stream: plan.stream,
      lingerMs: plan.lingerMs,
      undeliveredDir: dirs.undelivered,
      statsIntervalMs: 0,
      logger,
      clock: ctx.clock,
      onForcedExit: ctx.onForcedExit,
      stderr: ctx.stderr,
    });

    const reason = await runUntilStop(plan, ctx, { market, spark, ingest, store, log, hooks });
    logger.info(`stopping (${reason}): the ingest flushes what it read`);
    ingest.stop();
    const ingested: IngestResult = await ingest.result;
    await market.close();
    if (ingested.fatal) problems.push(asProblem(ingested.fatal, 'the ingest failed'));
    const { saved, lost } = ingested.summary;
    if (saved > 0) {
      problems.push(
        new CoattailError(
          `${saved} trades could not be delivered`,
          'retries ran out or the emulator went away',
          `They are saved in ${ingest.undeliveredFile() ?? dirs.undelivered}`,
        ),
      );
    }
    if (lost > 0) {
      problems.push(
        new CoattailError(
          `${lost} trades were lost`,
          'they were not delivered and no place could save them',
          'Free disk space, or make the demo folder writable',
        ),
      );
    }

    if (spark.running) await drainJobs(plan, dirs, store, spark, reason === INTERRUPTED, logger);
    logger.info('stopping the Spark jobs (each finishes its micro-batch)');
    const { stopped, missing } = await spark.stop(plan.stopTimeoutMs);
    const logs = spark.logFiles.join(' and ');
    if (missing.length > 0) {
      problems.push(
        new CoattailError(
          'the Spark jobs ended without their row counts',
          `${missing.join(', ')} exited before reporting them`,
          `See ${logs}`,
        ),
      );
    }
    if (stopped && stopped.failed.length > 0) {
      problems.push(
        new CoattailError(
          `${stopped.failed.length} streaming ${stopped.failed.length === 1 ? 'query' : 'queries'} failed`,
          stopped.failed.join(', '),
          `See ${logs}`,
        ),
      );
    }

    const { counts, first, latencies } = await readAlerts(store, market.startedAtMs);
    await hooks.beforeStop?.(store);

    const summary: DemoSummary = {
      trades_in: ingested.summary.sent,
      rows: stopped?.rows ?? {},
      alerts: counts,
      first_alert_s: first,
      latency_ms: summarizeLatency(latencies),
      source: market.source,
      scenario: plan.scenario?.name ?? null,
      seed: market.seed ?? null,
      market_started_at: isoFromMillis(market.startedAtMs),
      duration_s: Math.round((Date.now() - runStarted) / 1000),
      failed_queries: stopped?.failed ?? [],
      late_rows_dropped: stopped?.late_rows ?? {},
      trades_undelivered: ingested.summary.failed,
      trades_lost: ingested.summary.lost,
      feeds: {
        reconnects: ingested.summary.reconnects,
        gaps: ingested.summary.gaps,
        backfilled: ingested.summary.backfilled,
        missing_trades: ingested.summary.missing_trades,
        malformed_frames: ingested.summary.malformed_frames,
        invalid_trades: ingested.summary.invalid,
        duplicates: ingested.summary.duplicates,
      },
      dir: plan.dir,
      spark_logs: spark.logFiles,
    };
    return { summary, problems };
  } finally {
    log.mute(false);
    await shutdown({ ingest, market, spark, emulators, children, plan, logger });
  }
}

function asProblem(err: Error, what: string): CoattailError {
  return err instanceof CoattailError ? err : new CoattailError(what, errorMessage(err), 'See the demo log');
}

interface Parts {
  ingest: DemoIngest | undefined;
  market: Market | undefined;
  spark: RunningApps | undefined;
  emulators: DemoEmulators | undefined;
  children: ChildGroups;
  plan: DemoPlan;
  logger: Logger;
}

/** Stops whatever is still running, in order; safe to call on every path, however far the run got. */
async function shutdown(p: Parts): Promise<void> {
  try {
    if (p.ingest) {
      p.ingest.stop();
      await p.ingest.result.catch(() => undefined); // its outcome was reported, or the run failed before
    }
    await p.market?.close().catch((err: unknown) => p.logger.debug('closing the simulator failed', { error: errorMessage(err) }));
    await p.spark?.stop(p.plan.stopTimeoutMs);
    await p.emulators?.stop();
  } finally {
    // Anything left (a step above threw): no process outlives the demo.
    p.children.killAllNow();
    p.children.dispose();
  }
}
