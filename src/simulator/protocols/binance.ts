import { fixedText } from '../market/amounts.js';
import type { Print } from '../types.js';

/**
 * Binance spot market streams, as frames: the URL routes, `trade` events, `serverShutdown`, and the
 * control messages (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY/GET_PROPERTY combined).
 * Pure: no sockets, no clock.
 */

export type TimeUnit = 'ms' | 'us';

export interface BinanceRoute {
  /** `/stream?streams=…` wraps events as {stream, data}; `/ws/…` sends them raw. */
  combined: boolean;
  streams: string[];
  timeUnit: TimeUnit;
}

/** Binance prints prices and quantities with 8 decimals: "65000.01000000". */
const DECIMALS = 8;

/** `BTC-USDT` → `BTCUSDT` (the payload's `s`). */
export function binanceSymbol(symbol: string): string {
  return symbol.replace('-', '');
}

/** `BTC-USDT` → `btcusdt@trade` (stream names use lower case). */
export function tradeStreamName(symbol: string): string {
  return `${binanceSymbol(symbol).toLowerCase()}@trade`;
}

/**
 * The route of an upgrade request, an HTTP error for a bad one, or undefined when the path is not
 * Binance's. Stream names are not checked against the market: like Binance for a symbol that does
 * not trade, an unknown stream is accepted and simply never sends anything.
 */
export function parseBinanceRoute(url: URL): BinanceRoute | { status: number; error: string } | undefined {
  let combined: boolean;
  let streams: string[];
  if (url.pathname === '/stream' || url.pathname === '/stream/') {
    combined = true;
    streams = (url.searchParams.get('streams') ?? '').split('/');
  } else if (url.pathname === '/ws' || url.pathname.startsWith('/ws/')) {
    combined = false;
    streams = url.pathname.slice('/ws/'.length).split('/');
  } else {
    return undefined;
  }
  const unit = (url.searchParams.get('timeUnit') ?? 'MILLISECOND').toUpperCase();
  if (unit !== 'MILLISECOND' && unit !== 'MICROSECOND') {
    return { status: 400, error: `Invalid timeUnit ${unit}: expected MILLISECOND or MICROSECOND` };
  }
  return { combined, streams: streams.filter((s) => s.length > 0), timeUnit: unit === 'MICROSECOND' ? 'us' : 'ms' };
}

function stamp(print: Print, unit: TimeUnit): number {
  return unit === 'us' ? print.timeUs : print.trade.timeMs;
}

/** A `trade` event; `m` is "buyer is the maker", so it is true exactly when the taker sold. */
export function tradeEvent(print: Print, unit: TimeUnit): Record<string, unknown> {
  const { source, trade } = print;
  const time = stamp(print, unit);
  return {
    e: 'trade',
    E: time,
    s: binanceSymbol(trade.symbol),
    t: trade.tradeId,
    p: fixedText(source.price, DECIMALS),
    q: fixedText(source.size, DECIMALS),
    T: time,
    m: trade.takerSide === 'sell',
    M: true,
  };
}

export function wrap(stream: string, data: unknown, combined: boolean): string {
  return JSON.stringify(combined ? { stream, data } : data);
}

/** `serverShutdown` has no stream of its own; combined connections see it as `!serverShutdown`. */
export function shutdownFrame(timeUs: number, combined: boolean, unit: TimeUnit): string {
  const E = unit === 'us' ? timeUs : Math.floor(timeUs / 1000);
  return wrap('!serverShutdown', { e: 'serverShutdown', E }, combined);
}

export interface ControlOutcome {
  reply: Record<string, unknown>;
  subscribe?: string[];
  unsubscribe?: string[];
  /** SET_PROPERTY combined. */
  combined?: boolean;
}

const METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'];

/** Answers one client message the way Binance's stream servers do (error codes from its docs). */
export function handleControl(text: string, current: ReadonlySet<string>, combined: boolean): ControlOutcome {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    return { reply: { code: 3, msg: `Invalid JSON: ${err instanceof Error ? err.message : String(err)}` } };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return { reply: { code: 2, msg: 'Invalid request: expected an object' } };
  }
  const { method, params, id } = msg as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
    return { reply: { code: 2, msg: 'Invalid request: request ID must be an unsigned integer' } };
  }
  if (typeof method !== 'string') return { reply: { code: 2, msg: 'Invalid request: missing field `method`', id } };
  if (!METHODS.includes(method)) {
    return {
      reply: {
        code: 2,
        msg: `Invalid request: unknown variant ${method}, expected one of ${METHODS.map((m) => `\`${m}\``).join(', ')}`,
        id,
      },
    };
  }
  if (method === 'SET_PROPERTY') {
    // SET_PROPERTY ["combined", true|false]
    const [name, value] = Array.isArray(params) ? (params as unknown[]) : [];
    if (name !== 'combined') return { reply: { code: 2, msg: "Invalid request: property name must be either 'combined'", id } };
    if (typeof value !== 'boolean') return { reply: { code: 1, msg: 'Invalid value type: expected Boolean', id } };
    return { reply: { result: null, id }, combined: value };
  }
  const list = params === undefined ? [] : params;
  if (!Array.isArray(list) || !list.every((p): p is string => typeof p === 'string')) {
    return { reply: { code: 1, msg: 'Invalid value type: expected an array of strings', id } };
  }
  switch (method) {
    case 'SUBSCRIBE':
      return { reply: { result: null, id }, subscribe: list };
    case 'UNSUBSCRIBE':
      return { reply: { result: null, id }, unsubscribe: list };
    case 'LIST_SUBSCRIPTIONS':
      return { reply: { result: [...current], id } };
    default:
      // GET_PROPERTY ["combined"]
      if (list[0] !== 'combined') return { reply: { code: 0, msg: 'Unknown property', id } };
      return { reply: { result: combined, id } };
  }
}
