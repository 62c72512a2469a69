/**
 * Binance's trade history for gap backfill: `GET /api/v3/historicalTrades?symbol=&fromId=&limit=1000`
 * (public, weight 25), oldest first. Times come in the unit the live feed uses (`X-MBX-TIME-UNIT:
 * MICROSECOND` when it asks for µs), so a fetched trade is the very trade the stream would have given.
 * The weight budget: every answer says the weight used this minute (`X-MBX-USED-WEIGHT-1M`); when the
 * next call would pass our budget, requests wait for the next minute.
 */
import { isoFromMicros, isoFromMillis } from '../../core/time.js';
import { isJsonObject } from '../frames.js';
import { BackfillError, RestClient, type RestClientOptions } from '../rest-client.js';
import type { HistoricalTrade, TradeHistory } from '../types.js';
import { binanceTrade, type BinanceTimeUnit } from './mapper.js';

const PAGE = 1000;
const WEIGHT_PER_CALL = 25;
/** Binance allows 6000 a minute per IP; we keep a sixth of it for whatever else shares the address. */
export const BINANCE_WEIGHT_BUDGET = 5000;

export interface BinanceHistoryOptions {
  restUrl: string;
  timeUnit: BinanceTimeUnit;
  /** Retries and timeouts (tests shorten them). */
  client?: Omit<RestClientOptions, 'name'>;
  weightBudget?: number;
}

/** One row of `historicalTrades`. */
interface BinanceHistoricalRow {
  id: number;
  price: string;
  qty: string;
  time: number;
  isBuyerMaker: boolean;
}

export function binanceHistory(o: BinanceHistoryOptions): TradeHistory {
  const base = o.restUrl.replace(/\/+$/, '');
  const client = new RestClient({ name: 'Binance', ...o.client });
  const budget = o.weightBudget ?? BINANCE_WEIGHT_BUDGET;
  const iso = o.timeUnit === 'us' ? isoFromMicros : isoFromMillis;
  const headers: Record<string, string> = o.timeUnit === 'us' ? { 'X-MBX-TIME-UNIT': 'MICROSECOND' } : {};
  return {
    async *fetch(symbol, from, to, { signal, deadline }) {
      const pair = symbol.replace('-', '');
      let next = from;
      while (next <= to) {
        const limit = Math.min(PAGE, to - next + 1);
        const url = `${base}/api/v3/historicalTrades?symbol=${pair}&fromId=${next}&limit=${limit}`;
        const { body, headers: answer } = await client.get(url, headers, signal, deadline);
        const used = Number(answer.get('x-mbx-used-weight-1m'));
        if (Number.isFinite(used) && used + WEIGHT_PER_CALL > budget) client.waitUntil((Math.floor(Date.now() / 60_000) + 1) * 60_000);
        if (!Array.isArray(body)) throw new BackfillError(`Binance answered ${url} with something other than a list of trades`);
        const page: HistoricalTrade[] = [];
        let highest = next - 1;
        for (const row of body) {
          if (!isRow(row)) throw new BackfillError(`Binance answered ${url} with a row that is not a trade`);
          const trade = binanceTrade(symbol, row.id, row.price, row.qty, row.time, row.isBuyerMaker, iso, Date.now());
          if (typeof trade === 'string') throw new BackfillError(`Binance trade ${row.id}: ${trade}`);
          if (row.id >= from && row.id <= to) page.push({ trade, seq: row.id });
          highest = Math.max(highest, row.id);
        }
        yield page;
        // An empty page, or one that does not move on: the exchange has nothing more in the range.
        if (highest < next) return;
        next = highest + 1;
      }
    },
  };
}

function isRow(v: unknown): v is BinanceHistoricalRow {
  return (
    isJsonObject(v) &&
    typeof v.id === 'number' &&
    Number.isSafeInteger(v.id) &&
    typeof v.price === 'string' &&
    typeof v.qty === 'string' &&
    typeof v.time === 'number' &&
    typeof v.isBuyerMaker === 'boolean'
  );
}
