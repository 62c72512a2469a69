import type { Exchange } from '../../trade.js';
import { exactProductText, fixedText } from '../market/amounts.js';
import { binanceSymbol } from '../protocols/binance.js';
import type { Print } from '../types.js';
import type { PrintHistory } from './history.js';
import type { RestReply, RestRoute } from './types.js';

/**
 * Binance's `GET /api/v3/historicalTrades?symbol=&fromId=&limit=` from the simulator's history: oldest
 * first, `limit` 1..1000 (default 500), without `fromId` the latest trades; times in ms, or µs with the
 * `X-MBX-TIME-UNIT: MICROSECOND` header. Every answer carries `X-MBX-USED-WEIGHT-1M`: the weight used in
 * the current minute (25 per call); past the limit a call gets 429 with `Retry-After`, as on Binance.
 */

const WEIGHT = 25;
export const BINANCE_WEIGHT_LIMIT_1M = 6000;
const DECIMALS = 8;

export interface BinanceTradesOptions {
  history: PrintHistory;
  symbols: readonly string[];
  enabled: boolean;
  now?: () => number;
  weightLimit?: number;
}

const error = (status: number, code: number, msg: string, headers: Record<string, string> = {}): RestReply => ({
  status,
  headers,
  body: { code, msg },
});

export function binanceTradesRoute(o: BinanceTradesOptions): RestRoute {
  const now = o.now ?? Date.now;
  const limit = o.weightLimit ?? BINANCE_WEIGHT_LIMIT_1M;
  const bySymbol = new Map(o.symbols.map((s) => [binanceSymbol(s), s]));
  let minute = -1;
  let used = 0;
  return (req) => {
    if (req.url.pathname !== '/api/v3/historicalTrades') return undefined;
    const t = now();
    if (Math.floor(t / 60_000) !== minute) [minute, used] = [Math.floor(t / 60_000), 0];
    if (used + WEIGHT > limit) {
      const retryAfter = String(Math.ceil(((minute + 1) * 60_000 - t) / 1000));
      return error(429, -1003, `Too much request weight used; current limit is ${limit} request weight per 1 MINUTE.`, {
        'Retry-After': retryAfter,
        'X-MBX-USED-WEIGHT-1M': String(used),
      });
    }
    used += WEIGHT;
    const weight = { 'X-MBX-USED-WEIGHT-1M': String(used) };
    const answer = trades(req.url.searchParams, req.headers['x-mbx-time-unit'], bySymbol, o);
    return 'status' in answer
      ? { ...answer, headers: { ...answer.headers, ...weight } }
      : { status: 200, headers: weight, body: answer.rows };
  };
}

function trades(
  params: URLSearchParams,
  unitHeader: string | string[] | undefined,
  bySymbol: Map<string, string>,
  o: BinanceTradesOptions,
): RestReply | { rows: Array<Record<string, unknown>> } {
  const raw = params.get('symbol');
  if (!raw) return error(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
  const symbol = bySymbol.get(raw);
  if (symbol === undefined || !o.enabled) return error(400, -1121, 'Invalid symbol.');
  const limitText = params.get('limit');
  const limit = limitText === null ? 500 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    return error(400, -1130, "Invalid data sent for a parameter: 'limit' must be 1 to 1000.");
  const fromText = params.get('fromId');
  if (fromText !== null && !/^[0-9]{1,20}$/.test(fromText))
    return error(400, -1100, "Illegal characters found in parameter 'fromId'; legal range is '^[0-9]{1,20}$'.");
  const unit = (Array.isArray(unitHeader) ? unitHeader[0] : unitHeader)?.toUpperCase() ?? 'MILLISECOND';
  if (unit !== 'MILLISECOND' && unit !== 'MICROSECOND') return error(400, -1100, `Invalid X-MBX-TIME-UNIT ${unit}.`);
  const exchange: Exchange = 'binance';
  const last = o.history.lastId(exchange, symbol);
  if (last === undefined) return { rows: [] };
  const from = fromText === null ? last - limit + 1 : Number(fromText);
  const prints = o.history.range(exchange, symbol, from, Math.min(last, from + limit - 1));
  return { rows: prints.map((p) => row(p, unit === 'MICROSECOND')) };
}

/** One row as Binance writes it; `isBuyerMaker` true means the taker sold. */
function row(p: Print, micros: boolean): Record<string, unknown> {
  return {
    id: p.trade.tradeId,
    price: fixedText(p.source.price, DECIMALS),
    qty: fixedText(p.source.size, DECIMALS),
    quoteQty: exactProductText(p.source.price, p.source.size),
    time: micros ? p.timeUs : p.trade.timeMs,
    isBuyerMaker: p.trade.takerSide === 'sell',
    isBestMatch: true,
  };
}
