import { fixedText } from '../market/amounts.js';
import type { Print } from '../types.js';

/**
 * Coinbase Exchange feed, as messages: subscribe/unsubscribe requests, `subscriptions`, `match` and
 * `last_match`, `heartbeat`, `error`. Only the public `matches` and `heartbeat` channels are simulated.
 * Pure: no sockets, no clock.
 */

export const CHANNELS = ['matches', 'heartbeat'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Coinbase sends sizes with 8 decimals ("0.00120000") and prices at the product's quote increment. */
const SIZE_DECIMALS = 8;

export interface ChannelRequest {
  type: 'subscribe' | 'unsubscribe';
  /** Products per channel named in the request. */
  channels: Map<Channel, string[]>;
}

export type ParsedRequest = { ok: true; request: ChannelRequest } | { ok: false; error: Record<string, unknown> };

export function errorMessage(message: string, reason: string): Record<string, unknown> {
  return { type: 'error', message, reason };
}

function fail(reason: string): ParsedRequest {
  return { ok: false, error: errorMessage('Failed to subscribe', reason) };
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Reads a subscribe or unsubscribe message. Channels are names (using the top-level product_ids) or
 * objects with their own product_ids, as Coinbase allows both. Products not traded here are refused
 * (the whole request, like Coinbase), so a typo never turns into silence.
 */
export function parseRequest(text: string, products: ReadonlySet<string>): ParsedRequest {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { ok: false, error: errorMessage('Malformed JSON', 'the message is not valid JSON') };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return fail('the message must be a JSON object');
  const { type, product_ids: topProducts, channels } = msg as Record<string, unknown>;
  if (type !== 'subscribe' && type !== 'unsubscribe') return fail('Type has to be either subscribe or unsubscribe');
  if (topProducts !== undefined && !isStringArray(topProducts)) return fail('product_ids must be an array of strings');
  if (!Array.isArray(channels) || channels.length === 0) return fail('channels must be a non-empty array');
  const out = new Map<Channel, string[]>();
  for (const channel of channels) {
    let name: unknown;
    let ids: unknown;
    if (typeof channel === 'string') {
      name = channel;
      ids = topProducts ?? [];
    } else if (typeof channel === 'object' && channel !== null) {
      name = (channel as Record<string, unknown>).name;
      ids = (channel as Record<string, unknown>).product_ids ?? topProducts ?? [];
    }
    if (typeof name !== 'string') return fail('each channel must be a name or an object with a name');
    if (!(CHANNELS as readonly string[]).includes(name))
      return fail(`${name} is not a valid channel here (simulated: ${CHANNELS.join(', ')})`);
    if (!isStringArray(ids)) return fail(`product_ids of ${name} must be an array of strings`);
    const unknown = ids.find((p) => !products.has(p));
    if (unknown !== undefined) return fail(`${unknown} is not a valid product`);
    if (type === 'subscribe' && ids.length === 0) return fail(`no product_ids for channel ${name}`);
    out.set(name as Channel, [...(out.get(name as Channel) ?? []), ...ids]);
  }
  return { ok: true, request: { type, channels: out } };
}

export function subscriptionsMessage(subscribed: ReadonlyMap<Channel, ReadonlySet<string>>): Record<string, unknown> {
  const channels = [...subscribed]
    .filter(([, ids]) => ids.size > 0)
    .map(([name, ids]) => ({ name, product_ids: [...ids], account_ids: null }));
  return { type: 'subscriptions', channels };
}

/** The MAKER's side: a taker who bought lifted a resting sell order. */
export function makerSide(print: Print): 'buy' | 'sell' {
  return print.trade.takerSide === 'buy' ? 'sell' : 'buy';
}

function venue(print: Print): { sequence: number; makerOrderId: string; takerOrderId: string } {
  const v = print.source.venue;
  if (!v) throw new Error(`trade ${print.trade.tradeId} has no Coinbase details`); // only Coinbase prints reach here
  return v;
}

export function matchMessage(print: Print): Record<string, unknown> {
  const { trade, source } = print;
  const v = venue(print);
  return {
    type: 'match',
    trade_id: trade.tradeId,
    sequence: v.sequence,
    maker_order_id: v.makerOrderId,
    taker_order_id: v.takerOrderId,
    time: trade.timeIso,
    product_id: trade.symbol,
    size: fixedText(source.size, SIZE_DECIMALS),
    price: fixedText(source.price, source.price.decimals),
    side: makerSide(print),
  };
}

/** A row of `GET /products/{id}/trades`: the same trade as the `match`, field order as Coinbase's. */
export function tradeRow(print: Print): Record<string, unknown> {
  const { trade, source } = print;
  return {
    time: trade.timeIso,
    trade_id: trade.tradeId,
    price: fixedText(source.price, source.price.decimals),
    size: fixedText(source.size, SIZE_DECIMALS),
    side: makerSide(print),
  };
}

/** The product's most recent trade, sent once right after subscribing (field order as Coinbase's). */
export function lastMatchMessage(print: Print): Record<string, unknown> {
  const { trade, source } = print;
  const v = venue(print);
  return {
    type: 'last_match',
    trade_id: trade.tradeId,
    maker_order_id: v.makerOrderId,
    taker_order_id: v.takerOrderId,
    side: makerSide(print),
    size: fixedText(source.size, SIZE_DECIMALS),
    price: fixedText(source.price, source.price.decimals),
    product_id: trade.symbol,
    sequence: v.sequence,
    time: trade.timeIso,
  };
}

export function heartbeatMessage(product: string, last: Print, timeIso: string): Record<string, unknown> {
  return { type: 'heartbeat', sequence: venue(last).sequence, last_trade_id: last.trade.tradeId, product_id: product, time: timeIso };
}
