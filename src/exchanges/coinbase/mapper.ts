import { parseDecimal, multiplyDecimal } from '../../core/decimal.js';
import { isoFromMillis, normalizeIso } from '../../core/time.js';
import type { UnifiedTrade } from '../../trade.js';
import type { FeedEvent, Mapper } from '../types.js';

type Json = Record<string, unknown>;

const PRODUCT = /^[A-Z0-9]+-[A-Z0-9]+$/;
const rejected = (reason: string): FeedEvent => ({ kind: 'rejected', reason });

/** Maps one Coinbase Exchange feed frame to a FeedEvent. */
export const mapCoinbase: Mapper = (text, receivedAtMs) => {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return rejected('invalid JSON');
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return rejected('not a JSON object');
  const m = msg as Json;
  switch (m.type) {
    case 'match':
      return mapMatch(m, false, receivedAtMs);
    case 'last_match':
      // The most recent trade before we subscribed: already seen if we were connected before.
      return mapMatch(m, true, receivedAtMs);
    case 'heartbeat': {
      if (typeof m.product_id !== 'string') return rejected('heartbeat without product_id');
      const last = m.last_trade_id;
      return typeof last === 'number' && Number.isSafeInteger(last)
        ? { kind: 'heartbeat', symbol: m.product_id, lastSeq: last }
        : { kind: 'heartbeat', symbol: m.product_id };
    }
    case 'subscriptions':
      return { kind: 'control', detail: 'subscriptions' };
    case 'error':
      return { kind: 'exchange_error', detail: `${String(m.message)}${m.reason ? `: ${String(m.reason)}` : ''}` };
    default:
      return typeof m.type === 'string' ? { kind: 'ignored', detail: `type ${m.type}` } : rejected('no message type');
  }
};

function mapMatch(m: Json, replay: boolean, receivedAtMs: number): FeedEvent {
  const { trade_id, product_id, price, size, side, time } = m;
  if (typeof trade_id !== 'number' || !Number.isSafeInteger(trade_id) || trade_id < 0) return rejected('trade_id is not a non-negative integer');
  if (typeof product_id !== 'string' || !PRODUCT.test(product_id)) return rejected('product_id is not BASE-QUOTE');
  if (typeof price !== 'string' || typeof size !== 'string') return rejected('price or size is not a decimal string');
  if (side !== 'buy' && side !== 'sell') return rejected('side is neither buy nor sell');
  if (typeof time !== 'string') return rejected('time is not a string');
  const timestamp = normalizeIso(time);
  if (!timestamp) return rejected('time is not ISO-8601 UTC');
  const pd = parseDecimal(price);
  const sd = parseDecimal(size);
  if (!pd || !sd) return rejected('price or size is not a decimal string');
  const p = Number(price);
  const q = Number(size);
  if (!(p > 0) || !(q > 0)) return rejected('price and size must be positive');
  const tradeId = String(trade_id);
  const trade: UnifiedTrade = {
    schema_version: 1,
    event_id: `coinbase:${product_id}:${tradeId}`,
    exchange: 'coinbase',
    symbol: product_id,
    trade_id: tradeId,
    price: p,
    quantity: q,
    quote_volume: multiplyDecimal(pd, sd),
    // `side` is the maker's: a resting sell order filled means the taker bought.
    side: side === 'sell' ? 'buy' : 'sell',
    timestamp,
    ingested_at: isoFromMillis(receivedAtMs),
  };
  return { kind: 'trade', trade, seq: trade_id, replay };
}
