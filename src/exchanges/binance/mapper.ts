import { parseDecimal, multiplyDecimal } from '../../core/decimal.js';
import { splitConcatenatedSymbol, unifiedSymbol } from '../../core/symbols.js';
import { isoFromMicros, isoFromMillis } from '../../core/time.js';
import type { UnifiedTrade } from '../../trade.js';
import type { FeedEvent, Mapper } from '../types.js';

export type BinanceTimeUnit = 'ms' | 'us';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const rejected = (reason: string): FeedEvent => ({ kind: 'rejected', reason });

/** Maps one Binance frame (combined-stream wrapper or raw event) to a FeedEvent. */
export function createBinanceMapper(timeUnit: BinanceTimeUnit = 'ms'): Mapper {
  const iso = timeUnit === 'us' ? isoFromMicros : isoFromMillis;
  return (text, receivedAtMs) => {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return rejected('invalid JSON');
    }
    if (!isObject(msg)) return rejected('not a JSON object');
    // Combined streams wrap each event; raw streams do not.
    const event = 'stream' in msg && 'data' in msg ? msg.data : msg;
    if (!isObject(event)) return rejected('combined-stream data is not an object');
    const type = event.e;
    if (type === 'trade') return mapTrade(event, iso, receivedAtMs);
    if (type === 'serverShutdown') return { kind: 'shutdown' };
    if (typeof type === 'string') return { kind: 'ignored', detail: `event ${type}` };
    // Replies to SUBSCRIBE/UNSUBSCRIBE: {"result":null,"id":1}; errors: {"code":3,"msg":"..."}.
    if ('result' in msg && 'id' in msg) return { kind: 'control', detail: `reply to request ${String(msg.id)}` };
    if ('code' in msg && typeof msg.msg === 'string') return { kind: 'exchange_error', detail: `code ${String(msg.code)}: ${msg.msg}` };
    return rejected('no event type');
  };
}

function mapTrade(e: Json, iso: (n: number) => string, receivedAtMs: number): FeedEvent {
  const { s, t, p, q, T, m } = e;
  if (typeof s !== 'string') return rejected('trade without symbol');
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) return rejected('trade id is not a non-negative integer');
  if (typeof p !== 'string' || typeof q !== 'string') return rejected('price or quantity is not a decimal string');
  if (typeof T !== 'number' || !Number.isFinite(T) || T <= 0) return rejected('trade time is not a positive number');
  if (typeof m !== 'boolean') return rejected('buyer-is-maker flag is not a boolean');
  const parts = splitConcatenatedSymbol(s);
  if (!parts) return rejected(`unknown symbol ${s}`);
  const pd = parseDecimal(p);
  const qd = parseDecimal(q);
  if (!pd || !qd) return rejected('price or quantity is not a decimal string');
  const price = Number(p);
  const quantity = Number(q);
  if (!(price > 0) || !(quantity > 0)) return rejected('price and quantity must be positive');
  const symbol = unifiedSymbol(parts);
  const tradeId = String(t);
  const trade: UnifiedTrade = {
    schema_version: 1,
    event_id: `binance:${symbol}:${tradeId}`,
    exchange: 'binance',
    symbol,
    trade_id: tradeId,
    price,
    quantity,
    quote_volume: multiplyDecimal(pd, qd),
    // m = buyer is the maker, so the aggressor (taker) was the seller.
    side: m ? 'sell' : 'buy',
    timestamp: iso(T),
    ingested_at: isoFromMillis(receivedAtMs),
  };
  return { kind: 'trade', trade, seq: t, replay: false };
}
