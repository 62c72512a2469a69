import { silentLogger, type Logger } from '../core/logger.js';
import { systemClock, type Clock } from '../core/time.js';
import { setLongTimeout } from '../core/timers.js';
import { FeedConnection, type EngineOptions, type FeedStats } from '../exchanges/engine.js';
import type { FeedSpec } from '../exchanges/types.js';
import { serializeTrade, UnifiedTradeSchema, type UnifiedTrade } from '../trade.js';
import type { TradeSink } from './sink.js';

export interface IngestPlan {
  feeds: FeedSpec[];
  maxTrades?: number;
  durationMs?: number;
  /** 0 turns the periodic stats line off. */
  statsIntervalMs: number;
  shutdownTimeoutMs: number;
  engine?: EngineOptions;
}

export interface IngestSummary {
  stop_reason: string;
  duration_s: number;
  received: number;
  sent: number;
  retried: number;
  /** Received and not delivered: saved + lost. */
  failed: number;
  /** Of the failed: kept as undelivered (the undelivered file), to send again. */
  saved: number;
  /** Of the failed: kept nowhere. */
  lost: number;
  invalid: number;
  duplicates: number;
  malformed_frames: number;
  unexpected_frames: number;
  gaps: number;
  /** Trades of confirmed gaps fetched over REST and emitted (they are in `received`). */
  backfilled: number;
  /** Trades of confirmed gaps still missing after backfill. */
  missing_trades: number;
  /** Times an exchange's trade ids for a symbol started over; those trades are kept, not dropped as duplicates. */
  sequence_restarts: number;
  reconnects: number;
  exchanges: Record<
    string,
    {
      trades: number;
      gaps: number;
      backfilled: number;
      missing_trades: number;
      sequence_restarts: number;
      reconnects: number;
      malformed_frames: number;
    }
  >;
}

export interface IngestResult {
  summary: IngestSummary;
  fatal?: Error;
}

export interface IngestEnv {
  logger?: Logger;
  clock?: Clock;
  signal?: AbortSignal;
}

/**
 * Runs the feeds into the sink until a stop condition (max trades, duration, a signal, a fatal sink
 * error), then stops reading, flushes everything accepted, and reports.
 */
export async function runIngest(plan: IngestPlan, sink: TradeSink, env: IngestEnv = {}): Promise<IngestResult> {
  const logger = env.logger ?? silentLogger;
  const clock = env.clock ?? systemClock;
  const started = clock.now();
  let received = 0;
  let invalid = 0;
  /** Trades the sink threw on: neither delivered nor kept. */
  let refused = 0;
  let stopping = false;
  let fatal: Error | undefined;
  let resolveStop: (reason: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (resolveStop = resolve));
  const requestStop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    for (const c of connections) c.pause(); // stop reading at once; what is accepted still flushes
    resolveStop(reason);
  };

  const onTrade = (trade: UnifiedTrade): void => {
    if (plan.maxTrades !== undefined && received >= plan.maxTrades) return;
    // The mappers build valid trades by construction; this guards the contract at the boundary.
    const checked = UnifiedTradeSchema.safeParse(trade);
    if (!checked.success) {
      invalid += 1;
      logger.warn('mapped trade failed the unified-trade schema; skipped', {
        event_id: trade.event_id,
        issue: checked.error.issues[0]?.message,
      });
      return;
    }
    received += 1;
    let accepted: boolean;
    try {
      accepted = sink.write(trade, serializeTrade(trade));
    } catch (err) {
      // The sink cannot take even this one (a sink that stopped keeps such trades itself): count it, stop.
      refused += 1;
      logger.error('the sink refused a trade; it is lost', {
        event_id: trade.event_id,
        error: err instanceof Error ? err.message : String(err),
      });
      fatal ??= err instanceof Error ? err : new Error(String(err));
      requestStop('the sink failed');
      return;
    }
    if (!accepted && !stopping) {
      for (const c of connections) c.pause();
    }
    if (plan.maxTrades !== undefined && received >= plan.maxTrades) requestStop(`reached --max-trades ${plan.maxTrades}`);
  };

  const onFatal = (err: Error): void => {
    fatal ??= err;
    requestStop('an exchange refused the connection');
  };
  const connections = plan.feeds.map((feed) => new FeedConnection(feed, { onTrade, onFatal }, { logger, ...plan.engine }));
  sink.onDrain(() => {
    if (!stopping) for (const c of connections) c.resume();
  });
  sink.onEnd((reason) => requestStop(reason));
  sink.onFatal((err) => {
    fatal ??= err;
    requestStop('the sink failed');
  });

  const onAbort = (): void => requestStop('signal');
  if (env.signal?.aborted) requestStop('signal');
  env.signal?.addEventListener('abort', onAbort, { once: true });
  const durationTimer =
    plan.durationMs !== undefined
      ? setLongTimeout(() => requestStop(`reached --duration ${plan.durationMs! / 1000}s`), plan.durationMs)
      : undefined;
  let lastReceived = 0;
  const statsTimer =
    plan.statsIntervalMs > 0
      ? setInterval(() => {
          const s = sink.stats();
          const rate = ((received - lastReceived) * 1000) / plan.statsIntervalMs;
          lastReceived = received;
          const feeds = connections.map((c) => c.stats());
          logger.info('stats', {
            received,
            rate_per_s: Math.round(rate),
            sent: s.sent,
            buffered: s.buffered,
            retried: s.retried,
            failed: s.failed,
            gaps: sum(feeds, 'gaps'),
            backfilled: sum(feeds, 'backfilled'),
            missing: sum(feeds, 'missingTrades'),
            connected:
              feeds
                .filter((f) => f.connected)
                .map((f) => f.exchange)
                .join(',') || 'none',
          });
        }, plan.statsIntervalMs)
      : undefined;

  if (!stopping) for (const c of connections) c.start();
  const reason = await stopped;
  durationTimer?.clear();
  clearInterval(statsTimer);
  env.signal?.removeEventListener('abort', onAbort);
  logger.info('stopping: no more reads, flushing what was accepted', { reason });
  await Promise.all(connections.map((c) => c.stop()));
  await sink.close(plan.shutdownTimeoutMs);
  const feeds = connections.map((c) => c.stats());
  const s = sink.stats();
  const summary: IngestSummary = {
    stop_reason: reason,
    duration_s: Math.round((clock.now() - started) / 100) / 10,
    received,
    sent: s.sent,
    retried: s.retried,
    failed: s.failed + refused,
    saved: s.failed - s.lost,
    lost: s.lost + refused,
    invalid,
    duplicates: sum(feeds, 'duplicates'),
    malformed_frames: sum(feeds, 'rejected'),
    unexpected_frames: sum(feeds, 'ignored'),
    gaps: sum(feeds, 'gaps'),
    backfilled: sum(feeds, 'backfilled'),
    missing_trades: sum(feeds, 'missingTrades'),
    sequence_restarts: sum(feeds, 'sequenceRestarts'),
    reconnects: sum(feeds, 'reconnects') + sum(feeds, 'plannedReconnects'),
    exchanges: Object.fromEntries(
      feeds.map((f) => [
        f.exchange,
        {
          trades: f.trades,
          gaps: f.gaps,
          backfilled: f.backfilled,
          missing_trades: f.missingTrades,
          sequence_restarts: f.sequenceRestarts,
          reconnects: f.reconnects + f.plannedReconnects,
          malformed_frames: f.rejected,
        },
      ]),
    ),
  };
  return fatal ? { summary, fatal } : { summary };
}

function sum(
  feeds: FeedStats[],
  key:
    | 'gaps'
    | 'backfilled'
    | 'missingTrades'
    | 'sequenceRestarts'
    | 'duplicates'
    | 'rejected'
    | 'ignored'
    | 'reconnects'
    | 'plannedReconnects',
): number {
  return feeds.reduce((n, f) => n + f[key], 0);
}
