/**
 * Coinbase's trade history for gap backfill: `GET /products/{product_id}/trades`, newest first, paged
 * by trade id. `after=X` returns the page of trades older than X; the answer's `CB-AFTER` header is the
 * oldest id on it, the cursor for the next older page. A gap [from, to] is read from `after=to+1`
 * downwards until `from` is passed. `side` there is the maker's, as in `match`.
 */
import { isJsonObject } from '../frames.js';
import { BackfillError, RestClient, type RestClientOptions } from '../rest-client.js';
import type { HistoricalTrade, TradeHistory } from '../types.js';
import { coinbaseTrade } from './mapper.js';

const PAGE = 1000;

export interface CoinbaseHistoryOptions {
  restUrl: string;
  /** Retries and timeouts (tests shorten them). */
  client?: Omit<RestClientOptions, 'name'>;
}

/** One row of `/products/{id}/trades`. */
interface CoinbaseTradeRow {
  trade_id: number;
  price: string;
  size: string;
  side: 'buy' | 'sell';
  time: string;
}

export function coinbaseHistory(o: CoinbaseHistoryOptions): TradeHistory {
  const base = o.restUrl.replace(/\/+$/, '');
  // Coinbase's public limits are per second and its 429 carries no Retry-After: a second's wait, not Binance's minute.
  const client = new RestClient({ name: 'Coinbase', defaultRetryAfterMs: 1_000, ...o.client });
  return {
    async *fetch(symbol, from, to, { signal, deadline }) {
      let after = to + 1;
      while (after > from) {
        const limit = Math.min(PAGE, after - from);
        const url = `${base}/products/${encodeURIComponent(symbol)}/trades?after=${after}&limit=${limit}`;
        const { body, headers } = await client.get(url, {}, signal, deadline);
        if (!Array.isArray(body)) throw new BackfillError(`Coinbase answered ${url} with something other than a list of trades`);
        const page: HistoricalTrade[] = [];
        let lowest = after;
        for (const row of body) {
          if (!isRow(row)) throw new BackfillError(`Coinbase answered ${url} with a row that is not a trade`);
          const trade = coinbaseTrade(symbol, row.trade_id, row.price, row.size, row.side, row.time, Date.now());
          if (typeof trade === 'string') throw new BackfillError(`Coinbase trade ${row.trade_id}: ${trade}`);
          if (row.trade_id >= from && row.trade_id <= to) page.push({ trade, seq: row.trade_id });
          lowest = Math.min(lowest, row.trade_id);
        }
        yield page;
        const cursor = Number(headers.get('cb-after') ?? lowest);
        const nextAfter = Number.isSafeInteger(cursor) ? Math.min(cursor, lowest) : lowest;
        // An empty page, or one that does not move on: nothing older is there.
        if (nextAfter >= after) return;
        after = nextAfter;
      }
    },
  };
}

function isRow(v: unknown): v is CoinbaseTradeRow {
  return (
    isJsonObject(v) &&
    typeof v.trade_id === 'number' &&
    Number.isSafeInteger(v.trade_id) &&
    typeof v.price === 'string' &&
    typeof v.size === 'string' &&
    (v.side === 'buy' || v.side === 'sell') &&
    typeof v.time === 'string'
  );
}
