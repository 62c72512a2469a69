/**
 * `coattail ingest` in-process, from the demo's market into the demo's Kinesis emulator: the same
 * feeds, the same producer with KPL aggregation (the emulator takes a few hundred plain records a
 * second, and costs tens of milliseconds of CPU per call, so fewer, fuller records keep it light) and
 * a short linger, so a whale waits little for its batch.
 */
import { createKinesisClient } from '../aws/kinesis.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/time.js';
import { buildFeeds } from '../ingest/feeds.js';
import { openKinesisSink } from '../ingest/kinesis-sink.js';
import { runIngest, type IngestResult } from '../ingest/pipeline.js';
import { keepUndelivered } from '../ingest/undelivered-file.js';
import type { Exchange } from '../trade.js';
import path from 'node:path';
import { EXCHANGE_REGISTRY } from '../exchanges/registry.js';
import { binanceSymbol } from '../simulator/protocols/binance.js';
import { DEFAULT_SYMBOLS_CACHE_DIR } from '../symbols/cache.js';
import { resolveSymbols, type SymbolDirectories } from '../symbols/resolve.js';

export interface DemoIngestSettings {
  symbols: readonly string[];
  /** Each exchange's names for the symbols (demoExchangeSymbols). */
  exchangeSymbols: SymbolDirectories;
  binanceUrl: string;
  coinbaseUrl: string;
  /** Where confirmed gaps are fetched (the simulator's REST side in a simulated market). */
  restUrls: Record<Exchange, string>;
  kinesisEndpoint: string;
  region: string;
  stream: string;
  lingerMs: number;
  /** Where trades the producer gives up on are kept (never dropped silently). */
  undeliveredDir: string;
  statsIntervalMs: number;
  logger: Logger;
  clock: Clock;
  /** The command's hook for a forced exit (a second Ctrl-C): what is unacknowledged is saved then. */
  onForcedExit?: ((save: () => void) => () => void) | undefined;
  stderr: { write(text: string): unknown };
}

export interface DemoIngest {
  /** Asks it to stop reading; what was accepted is still flushed. */
  stop(): void;
  /** Settles once everything accepted is delivered (or saved as undelivered). */
  result: Promise<IngestResult>;
  sent(): number;
  /** Trades the producer took in (sent, in flight or held). */
  accepted(): number;
  undeliveredFile(): string | undefined;
}

/**
 * The exchanges' names for the demo's symbols: the simulator names its scenario's symbols as Binance
 * would (BTC-USDT is BTCUSDT, src/simulator/protocols/binance.ts); the live exchanges are asked, as
 * `coattail ingest` asks them (COATTAIL_<EXCHANGE>_REST_URL, the cache in .coattail/symbols).
 */
export async function demoExchangeSymbols(
  source: 'simulator' | 'live',
  symbols: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  logger: Logger,
  clock: Clock,
): Promise<SymbolDirectories> {
  if (source === 'simulator') return { binance: new Map(symbols.map((s) => [s, binanceSymbol(s)])) };
  return resolveSymbols({
    exchanges: ['binance', 'coinbase'],
    symbols,
    restUrls: {
      binance: env.COATTAIL_BINANCE_REST_URL || EXCHANGE_REGISTRY.binance.restUrl,
      coinbase: env.COATTAIL_COINBASE_REST_URL || EXCHANGE_REGISTRY.coinbase.restUrl,
    },
    cacheDir: path.resolve(cwd, env.COATTAIL_SYMBOLS_CACHE || DEFAULT_SYMBOLS_CACHE_DIR),
    logger,
    now: () => clock.now(),
  });
}

/** How long the final flush may take before what is left is saved as undelivered. */
const SHUTDOWN_TIMEOUT_MS = 20_000;

export function startIngest(s: DemoIngestSettings): DemoIngest {
  const feeds = buildFeeds({
    exchanges: ['binance', 'coinbase'],
    symbols: s.symbols,
    urls: { binance: s.binanceUrl, coinbase: s.coinbaseUrl },
    binanceTimeUnit: 'ms',
    restUrls: s.restUrls,
    exchangeSymbols: s.exchangeSymbols,
  });
  const logger = s.logger.child({ part: 'ingest' });
  const client = createKinesisClient({ endpoint: s.kinesisEndpoint, region: s.region, local: true });
  const sink = openKinesisSink({ client, streamName: s.stream, lingerMs: s.lingerMs, aggregate: true, logger, clock: s.clock });
  const { spill, forget } = keepUndelivered(sink, {
    dir: s.undeliveredDir,
    startedAtMs: s.clock.now(),
    logger,
    onForcedExit: s.onForcedExit,
    stderr: s.stderr,
  });
  const abort = new AbortController();
  const result = runIngest({ feeds, statsIntervalMs: s.statsIntervalMs, shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS }, sink, {
    logger,
    clock: s.clock,
    signal: abort.signal,
  }).finally(() => {
    forget();
    client.destroy();
  });
  return {
    stop: () => abort.abort(),
    result,
    sent: () => sink.stats().sent,
    accepted: () => sink.stats().accepted,
    undeliveredFile: () => (spill.saved() > 0 ? spill.file : undefined),
  };
}
