/** Which exchanges and symbols to read, checked, and the feeds that read them. */
import { usageError } from '../core/errors.js';
import { binanceFeed } from '../exchanges/binance/feed.js';
import { binanceHistory } from '../exchanges/binance/rest.js';
import { coinbaseFeed } from '../exchanges/coinbase/feed.js';
import { coinbaseHistory } from '../exchanges/coinbase/rest.js';
import type { FeedSpec, TradeHistory } from '../exchanges/types.js';
import type { SymbolDirectories } from '../symbols/resolve.js';
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

/**
 * The `--symbols` list, written right: upper-case `BASE-QUOTE`, deduplicated. Whether each exchange
 * lists them is asked of the exchanges at start (src/symbols/resolve.ts).
 */
export function parseSymbols(text: string): string[] {
  const list = [...new Set(splitList(text).map((s) => s.toUpperCase()))];
  if (list.length === 0) throw usageError('no symbols given', '--symbols is empty', 'pass symbols like --symbols BTC-USDT,ETH-USDT');
  for (const s of list) {
    if (!/^[A-Z0-9]+-[A-Z0-9]+$/.test(s)) {
      throw usageError(`symbol '${s}' is not BASE-QUOTE`, 'symbols are written with a dash, upper case', 'write it like BTC-USDT');
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
  /** Each exchange's own names for the symbols, as resolved from its listing. */
  exchangeSymbols: SymbolDirectories;
}

/** Each exchange's feed, from its URL and the symbols: one entry per line of the exchange registry. */
const FEEDS: { [E in Exchange]: (url: string, symbols: string[], o: FeedOptions) => FeedSpec } = {
  binance: (url, symbols, o) =>
    binanceFeed({
      baseUrl: url,
      symbols,
      timeUnit: o.binanceTimeUnit,
      ...(o.exchangeSymbols.binance ? { exchangeSymbols: o.exchangeSymbols.binance } : {}),
    }),
  // Coinbase's product ids are its unified symbols already (BTC-USD): its listing only checks them.
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
