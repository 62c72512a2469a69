import type { Exchange } from '../../trade.js';
import type { Print } from '../types.js';

/** How many of the latest prints each (exchange, symbol) keeps for the REST trade endpoints. */
export const HISTORY_PER_SYMBOL = 100_000;

interface Series {
  /** Trade id of prints[0]. */
  firstId: number;
  prints: Print[];
}

/**
 * The simulator's own record of what it printed, per (exchange, symbol), bounded to the latest
 * `limit` trades: what its REST endpoints answer from. Ids are consecutive per series, so a lookup is
 * an index.
 */
export class PrintHistory {
  private readonly series = new Map<string, Series>();

  constructor(private readonly limit = HISTORY_PER_SYMBOL) {}

  add(print: Print): void {
    const { exchange, symbol, tradeId } = print.trade;
    const key = `${exchange}:${symbol}`;
    const s = this.series.get(key);
    if (!s || tradeId !== s.firstId + s.prints.length) {
      // A first print, or ids that do not follow on: the series starts over from this one.
      this.series.set(key, { firstId: tradeId, prints: [print] });
      return;
    }
    s.prints.push(print);
    // Trim in chunks, not one shift per print.
    const excess = s.prints.length - this.limit;
    if (excess >= Math.max(1, Math.floor(this.limit / 10))) {
      s.prints.splice(0, excess);
      s.firstId += excess;
    }
  }

  /** Prints with ids in [from, to] that are still kept, oldest first. */
  range(exchange: Exchange, symbol: string, from: number, to: number): Print[] {
    const s = this.series.get(`${exchange}:${symbol}`);
    if (!s || to < from) return [];
    const start = Math.max(0, from - s.firstId);
    const end = Math.min(s.prints.length, to - s.firstId + 1);
    return start < end ? s.prints.slice(start, end) : [];
  }

  /** The newest trade id printed, or undefined before any print. */
  lastId(exchange: Exchange, symbol: string): number | undefined {
    const s = this.series.get(`${exchange}:${symbol}`);
    return s ? s.firstId + s.prints.length - 1 : undefined;
  }
}
