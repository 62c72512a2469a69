import { tradeRow } from '../protocols/coinbase.js';
import type { PrintHistory } from './history.js';
import type { RestReply, RestRoute } from './types.js';

/**
 * Coinbase Exchange's `GET /products/{product_id}/trades` (served under `/coinbase`) from the
 * simulator's history. Newest first; cursor pagination by trade id: `after=X` is the page of older
 * trades (ids below X), `before=X` the page of newer ones (ids above X, the nearest `limit` of them);
 * `limit` 1..1000 (default 1000). `CB-BEFORE` holds the first (newest) row's id and `CB-AFTER` the last
 * (oldest) one's, the cursors for the next requests. `side` is the maker order's side. Public limit:
 * 10 requests a second, then 429.
 */

const PATH = /^\/coinbase\/products\/([^/]+)\/trades\/?$/;
export const COINBASE_PUBLIC_RATE = 10;

export interface CoinbaseTradesOptions {
  history: PrintHistory;
  symbols: readonly string[];
  enabled: boolean;
  now?: () => number;
  ratePerSecond?: number;
}

const message = (status: number, text: string): RestReply => ({ status, body: { message: text } });

export function coinbaseTradesRoute(o: CoinbaseTradesOptions): RestRoute {
  const now = o.now ?? Date.now;
  const rate = o.ratePerSecond ?? COINBASE_PUBLIC_RATE;
  const products = new Set(o.symbols);
  let second = -1;
  let calls = 0;
  return (req) => {
    const m = PATH.exec(req.url.pathname);
    if (!m) return undefined;
    const s = Math.floor(now() / 1000);
    if (s !== second) [second, calls] = [s, 0];
    calls += 1;
    if (calls > rate) return message(429, 'Public rate limit exceeded');
    const product = decodeURIComponent(m[1]!);
    if (!o.enabled || !products.has(product)) return message(404, 'NotFound');
    const p = req.url.searchParams;
    const limitText = p.get('limit');
    const limit = limitText === null ? 1000 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return message(400, 'limit must be an integer from 1 to 1000');
    const cursor = (name: string): number | undefined | string => {
      const text = p.get(name);
      if (text === null) return undefined;
      return /^[0-9]{1,15}$/.test(text) ? Number(text) : `${name} must be a trade id`;
    };
    const after = cursor('after');
    const before = cursor('before');
    if (typeof after === 'string') return message(400, after);
    if (typeof before === 'string') return message(400, before);
    const last = o.history.lastId('coinbase', product);
    if (last === undefined) return { status: 200, body: [] };
    // after: the page just older than the cursor; before: the page just newer; both: what lies between.
    const hi = after !== undefined ? Math.min(last, after - 1) : before !== undefined ? Math.min(last, before + limit) : last;
    const lo = Math.max(before !== undefined ? before + 1 : 0, hi - limit + 1);
    const rows = o.history
      .range('coinbase', product, lo, hi)
      .reverse()
      .map((print) => tradeRow(print));
    const headers: Record<string, string> = {};
    if (rows.length > 0) {
      headers['CB-BEFORE'] = String(rows[0]!.trade_id);
      headers['CB-AFTER'] = String(rows[rows.length - 1]!.trade_id);
    }
    return { status: 200, headers, body: rows };
  };
}
