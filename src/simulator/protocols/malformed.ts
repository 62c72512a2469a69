import type { Exchange } from '../../trade.js';
import type { Prng } from '../prng.js';
import { binanceSymbol } from './binance.js';

/**
 * Garbage an ingester must count and skip: invalid JSON, truncated JSON, a trade missing a field, a
 * trade with a wrong type, an event type nobody asked for. None of them is a valid trade; the trade
 * ids they carry (below 1000) can never collide with the market's (above ten million).
 */

export const MALFORMED_KINDS = ['invalid_json', 'truncated', 'missing_field', 'wrong_type', 'unknown_event'] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export interface MalformedTarget {
  exchange: Exchange;
  symbol: string;
  /** Binance: the connection wraps events as {stream, data}. */
  combined: boolean;
  timeMs: number;
  timeIso: string;
}

const pick = <T>(prng: Prng, items: readonly T[]): T => items[prng.int(items.length)] as T;

function binanceTrade(t: MalformedTarget, prng: Prng): Record<string, unknown> {
  return {
    e: 'trade',
    E: t.timeMs,
    s: binanceSymbol(t.symbol),
    t: 1 + prng.int(999),
    p: '100.00000000',
    q: '1.00000000',
    T: t.timeMs,
    m: true,
    M: true,
  };
}

function coinbaseMatch(t: MalformedTarget, prng: Prng): Record<string, unknown> {
  return {
    type: 'match',
    trade_id: 1 + prng.int(999),
    sequence: 1 + prng.int(999),
    maker_order_id: prng.uuid(),
    taker_order_id: prng.uuid(),
    time: t.timeIso,
    product_id: t.symbol,
    size: '1.00000000',
    price: '100.00',
    side: 'sell',
  };
}

const BINANCE_REQUIRED = ['e', 's', 't', 'p', 'q', 'T', 'm'];
const COINBASE_REQUIRED = ['type', 'trade_id', 'time', 'product_id', 'size', 'price', 'side'];
const BINANCE_WRONG: Array<Record<string, unknown>> = [
  { p: null },
  { q: true },
  { t: 'not-a-number' },
  { T: 'yesterday' },
  { m: 'maybe' },
  { p: 'abc' },
  { q: '-1' },
];
const COINBASE_WRONG: Array<Record<string, unknown>> = [
  { price: null },
  { size: 'abc' },
  { trade_id: 'xyz' },
  { time: 'yesterday' },
  { side: 'up' },
  { product_id: 42 },
  { price: '-5' },
];

function body(kind: MalformedKind, t: MalformedTarget, prng: Prng): string {
  const binance = t.exchange === 'binance';
  const stream = `${binanceSymbol(t.symbol).toLowerCase()}@trade`;
  const wrap = (data: Record<string, unknown>, name = stream): string =>
    JSON.stringify(binance && t.combined ? { stream: name, data } : data);
  const valid = (): Record<string, unknown> => (binance ? binanceTrade(t, prng) : coinbaseMatch(t, prng));
  switch (kind) {
    case 'invalid_json':
      return pick(
        prng,
        binance
          ? ['{"stream":"' + stream + '","data":{"e":"trade",,}}', 'trade BTCUSDT 100 1', '{e:trade}']
          : ['{"type":"match",,"trade_id":}', 'match BTC-USDT 100', "{'type':'match'}"],
      );
    case 'truncated': {
      const text = wrap(valid());
      return text.slice(0, 1 + prng.int(text.length - 2));
    }
    case 'missing_field': {
      const data = valid();
      delete data[pick(prng, binance ? BINANCE_REQUIRED : COINBASE_REQUIRED)];
      return wrap(data);
    }
    case 'wrong_type':
      return wrap({ ...valid(), ...pick(prng, binance ? BINANCE_WRONG : COINBASE_WRONG) });
    case 'unknown_event':
      return binance
        ? wrap(
            { e: pick(prng, ['kline', 'tradeV2', 'bookTicker']), E: t.timeMs, s: binanceSymbol(t.symbol) },
            `${binanceSymbol(t.symbol).toLowerCase()}@kline_1m`,
          )
        : JSON.stringify({ type: pick(prng, ['matchx', 'auction', 'ticker_v9']), product_id: t.symbol, time: t.timeIso });
  }
}

/** `count` garbage frames for one connection, every kind in turn from a random starting kind. */
export function malformedFrames(count: number, target: MalformedTarget, prng: Prng): Array<{ kind: MalformedKind; text: string }> {
  const start = prng.int(MALFORMED_KINDS.length);
  return Array.from({ length: count }, (_, i) => {
    const kind = MALFORMED_KINDS[(start + i) % MALFORMED_KINDS.length] as MalformedKind;
    return { kind, text: body(kind, target, prng) };
  });
}
