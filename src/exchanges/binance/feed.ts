import { usageError } from '../../core/errors.js';
import type { FeedSpec } from '../types.js';
import { createBinanceMapper, type BinanceTimeUnit } from './mapper.js';

// Binance: the server pings every 20 s and drops a client that has not ponged within a minute;
// every connection is cut at 24 h. One combined connection takes up to 1024 streams.
const STALE_AFTER_MS = 60_000;
const PLANNED_RECONNECT_MS = 23 * 60 * 60 * 1000 + 50 * 60 * 1000;
const MAX_STREAMS_PER_CONNECTION = 1024;

export interface BinanceFeedOptions {
  baseUrl: string;
  /** Unified symbols (`AR-BUSD`). */
  symbols: string[];
  /** Each symbol's Binance name, from its exchangeInfo (src/symbols/); by default the symbol without its dash. */
  exchangeSymbols?: ReadonlyMap<string, string>;
  timeUnit?: BinanceTimeUnit;
  staleAfterMs?: number;
  maxConnectionAgeMs?: number;
}

/** `ARBUSD` (Binance's name for AR-BUSD) → `arbusd@trade`. */
export function binanceStreamName(exchangeSymbol: string): string {
  return `${exchangeSymbol.toLowerCase()}@trade`;
}

export function binanceFeed(opts: BinanceFeedOptions): FeedSpec {
  if (opts.symbols.length > MAX_STREAMS_PER_CONNECTION) {
    throw usageError(
      'too many Binance symbols',
      `one connection carries at most ${MAX_STREAMS_PER_CONNECTION} streams`,
      'run several ingest processes with fewer --symbols each',
    );
  }
  const timeUnit = opts.timeUnit ?? 'ms';
  const base = opts.baseUrl.replace(/\/+$/, '');
  const names = opts.symbols.map((s) => opts.exchangeSymbols?.get(s) ?? s.replace('-', ''));
  const streams = names.map(binanceStreamName).join('/');
  const url = `${base}/stream?streams=${streams}${timeUnit === 'us' ? '&timeUnit=MICROSECOND' : ''}`;
  return {
    exchange: 'binance',
    url,
    subscribeMessages: [], // the combined-stream URL subscribes
    staleAfterMs: opts.staleAfterMs ?? STALE_AFTER_MS,
    maxConnectionAgeMs: opts.maxConnectionAgeMs ?? PLANNED_RECONNECT_MS,
    symbols: opts.symbols,
    map: createBinanceMapper(timeUnit, new Map(names.map((name, i) => [name, opts.symbols[i]!]))),
  };
}
