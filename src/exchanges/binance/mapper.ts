import { isoFromMicros, isoFromMillis } from '../../core/time.js';
import type { UnifiedTrade } from '../../trade.js';
import { isJsonObject, parseFrame, priceAndSize, rejected, type Json } from '../frames.js';
import type { FeedEvent, Mapper } from '../types.js';
import type { BinanceTradeEvent } from './messages.js';

export type BinanceTimeUnit = 'ms' | 'us';

// Trade times between 2001 and 2286: anything else is not a time in the unit we asked for.
const TIME_RANGE: Record<BinanceTimeUnit, [number, number]> = { ms: [1e12, 1e13], us: [1e15, 1e16] };

/**
 * Maps one Binance frame (combined-stream wrapper or raw event) to a FeedEvent. `symbols` maps the
 * Binance names subscribed to (`ARBUSD`) to their unified symbols (`AR-BUSD`, as exchangeInfo splits it):
 * the name alone cannot say where the base ends, and a trade of a symbol not subscribed to is rejected.
 */
export function createBinanceMapper(timeUnit: BinanceTimeUnit, symbols: ReadonlyMap<string, string>): Mapper {
  const iso = timeUnit === 'us' ? isoFromMicros : isoFromMillis;
  const [minTime, maxTime] = TIME_RANGE[timeUnit];
  return (text, receivedAtMs) => {
    const msg = parseFrame(text);
    if (typeof msg === 'string') return rejected(msg);
    // Combined streams wrap each event; raw streams do not.
    const event = 'stream' in msg && 'data' in msg ? msg.data : msg;
    if (!isJsonObject(event)) return rejected('combined-stream data is not an object');
    const type = event.e;
    if (type === 'trade') {
      const trade = checkTrade(event, minTime, maxTime);
      if (typeof trade === 'string') return rejected(trade);
      const symbol = symbols.get(trade.s);
      return symbol === undefined
        ? rejected(`trade of ${trade.s}, a symbol not subscribed to`)
        : mapTrade(trade, symbol, iso, receivedAtMs);
    }
    if (type === 'serverShutdown') return { kind: 'shutdown' };
    if (typeof type === 'string') return { kind: 'ignored', detail: `event ${type}` };
    // Replies to SUBSCRIBE/UNSUBSCRIBE: {"result":null,"id":1}; errors: {"code":3,"msg":"..."}.
    if ('result' in msg && 'id' in msg) return { kind: 'control', detail: `reply to request ${String(msg.id)}` };
    if ('code' in msg && typeof msg.msg === 'string')
      return { kind: 'exchange_error', detail: `code ${String(msg.code)}: ${msg.msg}`, fatal: false };
    return rejected('no event type');
  };
}

/** The event as a BinanceTradeEvent, or why it is not one. */
function checkTrade(e: Json, minTime: number, maxTime: number): BinanceTradeEvent | string {
  if (typeof e.s !== 'string') return 'trade without symbol';
  if (typeof e.t !== 'number' || !Number.isSafeInteger(e.t) || e.t < 0) return 'trade id is not a non-negative integer';
  if (typeof e.p !== 'string' || typeof e.q !== 'string') return 'price or quantity is not a decimal string';
  if (typeof e.T !== 'number' || !Number.isSafeInteger(e.T) || e.T < minTime || e.T >= maxTime)
    return 'trade time is not a plausible epoch time in the unit asked for';
  if (typeof e.m !== 'boolean') return 'buyer-is-maker flag is not a boolean';
  return e as unknown as BinanceTradeEvent;
}

function mapTrade(e: BinanceTradeEvent, symbol: string, iso: (n: number) => string, receivedAtMs: number): FeedEvent {
  const trade = binanceTrade(symbol, e.t, e.p, e.q, e.T, e.m, iso, receivedAtMs);
  return typeof trade === 'string' ? rejected(trade) : { kind: 'trade', trade, seq: e.t };
}

/**
 * The unified trade of one Binance trade, live (`@trade`) or fetched (`historicalTrades`): both give
 * the id, the decimal price and quantity, the time in the unit asked for, and "buyer is maker".
 */
export function binanceTrade(
  symbol: string,
  id: number,
  price: string,
  quantity: string,
  time: number,
  buyerIsMaker: boolean,
  iso: (n: number) => string,
  receivedAtMs: number,
): UnifiedTrade | string {
  const amounts = priceAndSize(price, quantity, 'price or quantity');
  if (typeof amounts === 'string') return amounts;
  const tradeId = String(id);
  return {
    schema_version: 1,
    event_id: `binance:${symbol}:${tradeId}`,
    exchange: 'binance',
    symbol,
    trade_id: tradeId,
    price: amounts.price,
    quantity: amounts.quantity,
    quote_volume: amounts.quoteVolume,
    // m = buyer is the maker, so the aggressor (taker) was the seller.
    side: buyerIsMaker ? 'sell' : 'buy',
    timestamp: iso(time),
    ingested_at: isoFromMillis(receivedAtMs),
  };
}
