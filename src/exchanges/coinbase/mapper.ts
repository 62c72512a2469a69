import { isoFromMillis, normalizeIso } from '../../core/time.js';
import type { UnifiedTrade } from '../../trade.js';
import { parseFrame, priceAndSize, rejected, type Json } from '../frames.js';
import type { FeedEvent, Mapper } from '../types.js';
import type { CoinbaseMatch } from './messages.js';

const PRODUCT = /^[A-Z0-9]+-[A-Z0-9]+$/;

/** Maps one Coinbase Exchange feed frame to a FeedEvent. */
export const mapCoinbase: Mapper = (text, receivedAtMs) => {
  const m = parseFrame(text);
  if (typeof m === 'string') return rejected(m);
  switch (m.type) {
    // last_match is the most recent trade before we subscribed: already seen if we were connected
    // before. The engine's trade-id tracking drops it then, and counts a gap if trades came in between.
    case 'match':
    case 'last_match': {
      const match = checkMatch(m);
      return typeof match === 'string' ? rejected(match) : mapMatch(match, receivedAtMs);
    }
    case 'heartbeat': {
      if (typeof m.product_id !== 'string') return rejected('heartbeat without product_id');
      const last = m.last_trade_id;
      return typeof last === 'number' && Number.isSafeInteger(last)
        ? { kind: 'heartbeat', symbol: m.product_id, lastSeq: last }
        : { kind: 'heartbeat', symbol: m.product_id };
    }
    case 'subscriptions':
      return { kind: 'control', detail: 'subscriptions' };
    case 'error': {
      const detail = `${String(m.message)}${m.reason ? `: ${String(m.reason)}` : ''}`;
      // A refused subscribe refuses the whole message: nothing will ever flow on this connection.
      return { kind: 'exchange_error', detail, fatal: m.message === 'Failed to subscribe' };
    }
    default:
      return typeof m.type === 'string' ? { kind: 'ignored', detail: `type ${m.type}` } : rejected('no message type');
  }
};

/** The message as a CoinbaseMatch, or why it is not one. */
function checkMatch(m: Json): CoinbaseMatch | string {
  if (typeof m.trade_id !== 'number' || !Number.isSafeInteger(m.trade_id) || m.trade_id < 0)
    return 'trade_id is not a non-negative integer';
  if (typeof m.product_id !== 'string' || !PRODUCT.test(m.product_id)) return 'product_id is not BASE-QUOTE';
  if (typeof m.price !== 'string' || typeof m.size !== 'string') return 'price or size is not a decimal string';
  if (m.side !== 'buy' && m.side !== 'sell') return 'side is neither buy nor sell';
  if (typeof m.time !== 'string') return 'time is not a string';
  return m as unknown as CoinbaseMatch;
}

function mapMatch(m: CoinbaseMatch, receivedAtMs: number): FeedEvent {
  const trade = coinbaseTrade(m.product_id, m.trade_id, m.price, m.size, m.side, m.time, receivedAtMs);
  return typeof trade === 'string' ? rejected(trade) : { kind: 'trade', trade, seq: m.trade_id };
}

/**
 * The unified trade of one Coinbase trade, live (`match`) or fetched (`/products/{id}/trades`): both
 * give the id, decimal price and size, the MAKER's side and an ISO time.
 */
export function coinbaseTrade(
  productId: string,
  id: number,
  price: string,
  size: string,
  makerSide: 'buy' | 'sell',
  time: string,
  receivedAtMs: number,
): UnifiedTrade | string {
  const timestamp = normalizeIso(time);
  if (!timestamp) return 'time is not ISO-8601 UTC';
  const amounts = priceAndSize(price, size, 'price or size');
  if (typeof amounts === 'string') return amounts;
  const tradeId = String(id);
  return {
    schema_version: 1,
    event_id: `coinbase:${productId}:${tradeId}`,
    exchange: 'coinbase',
    symbol: productId,
    trade_id: tradeId,
    price: amounts.price,
    quantity: amounts.quantity,
    quote_volume: amounts.quoteVolume,
    // `side` is the maker's: a resting sell order filled means the taker bought.
    side: makerSide === 'sell' ? 'buy' : 'sell',
    timestamp,
    ingested_at: isoFromMillis(receivedAtMs),
  };
}
