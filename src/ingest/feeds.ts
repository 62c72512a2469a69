/** Which exchanges and symbols to read, checked, and the feeds that read them. */
import { usageError } from '../core/errors.js';
import { parseUnifiedSymbol, splitConcatenatedSymbol } from '../core/symbols.js';
import { binanceFeed } from '../exchanges/binance/feed.js';
import { binanceHistory } from '../exchanges/binance/rest.js';
import { coinbaseFeed } from '../exchanges/coinbase/feed.js';
import { coinbaseHistory } from '../exchanges/coinbase/rest.js';
import type { FeedSpec, TradeHistory } from '../exchanges/types.js';
import { EXCHANGES, type Exchange } from '../trade.js';

export function parseExchanges(text: string): Exchange[] {
  const list = splitList(text).map((e) => e.toLowerCase());
  if (list.length === 0) throw usageError('no exchanges given', '--exchanges is empty', `name at least one of ${EXCHANGES.join(', ')}`);
  for (const e of list) {
    if (!(EXCHANGES as readonly string[]).includes(e)) {
      throw usageError(`unknown exchange '${e}'`, `coattail reads ${EXCHANGES.join(' and ')}`, `pass --exchanges ${EXCHANGES.join(',')}`);
    }
  }
  return [...new Set(list)] as Exchange[];
}

export function parseSymbols(text: string, exchanges: Exchange[]): string[] {
  const list = [...new Set(splitList(text).map((s) => s.toUpperCase()))];
  if (list.length === 0) throw usageError('no symbols given', '--symbols is empty', 'pass symbols like --symbols BTC-USDT,ETH-USDT');
  for (const s of list) {
    if (!/^[A-Z0-9]+-[A-Z0-9]+$/.test(s)) {
      throw usageError(`symbol '${s}' is not BASE-QUOTE`, 'symbols are written with a dash, upper case', 'write it like BTC-USDT');
    }
    // Binance names the pair without a dash (BTCUSDT): we map it back only for assets we know.
    if (exchanges.includes('binance') && (!parseUnifiedSymbol(s) || !splitConcatenatedSymbol(s.replace('-', '')))) {
      throw usageError(
        `symbol '${s}' is not in the known asset table`,
        'Binance symbols are split into base and quote with a table, never by guessing',
        'add the assets to src/core/symbols.ts or drop the symbol',
      );
    }
  }
  return list;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export interface FeedOptions {
  exchanges: readonly Exchange[];
  symbols: readonly string[];
  /** Each exchange's WebSocket URL. */
  urls: Record<Exchange, string>;
  binanceTimeUnit: 'ms' | 'us';
  /** Each exchange's REST URL, where confirmed gaps are fetched; absent: gaps are only counted (`--no-backfill`). */
  restUrls?: Record<Exchange, string>;
}

/** Each exchange's feed, from its URL and the symbols: one entry per line of the exchange registry. */
const FEEDS: { [E in Exchange]: (url: string, symbols: string[], o: FeedOptions) => FeedSpec } = {
  binance: (url, symbols, o) => binanceFeed({ baseUrl: url, symbols, timeUnit: o.binanceTimeUnit }),
  coinbase: (url, symbols) => coinbaseFeed({ url, symbols }),
};

/** Each exchange's REST trade history, from its REST URL. */
const HISTORIES: { [E in Exchange]: (restUrl: string, o: FeedOptions) => TradeHistory } = {
  binance: (restUrl, o) => binanceHistory({ restUrl, timeUnit: o.binanceTimeUnit }),
  coinbase: (restUrl) => coinbaseHistory({ restUrl }),
};

export function buildFeeds(o: FeedOptions): FeedSpec[] {
  return o.exchanges.map((e) => {
    const feed = FEEDS[e](o.urls[e], [...o.symbols], o);
    return o.restUrls ? { ...feed, history: HISTORIES[e](o.restUrls[e], o) } : feed;
  });
}
