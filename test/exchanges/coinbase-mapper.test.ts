import { describe, expect, it } from 'vitest';
import { mapCoinbase } from '../../src/exchanges/coinbase/mapper.js';
import { UnifiedTradeSchema } from '../../src/trade.js';

const RECEIVED = Date.UTC(2024, 4, 1, 12, 0, 0, 5); // 2024-05-01T12:00:00.005Z

// Frames from Coinbase's public documentation (shared/EXCHANGES.md).
const MATCH =
  '{"type":"match","trade_id":10,"sequence":50,"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8","taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","time":"2014-11-07T08:19:27.028459Z","product_id":"BTC-USD","size":"5.23512","price":"400.23","side":"sell"}';
const HEARTBEAT = '{"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD","time":"2014-11-07T08:19:28.464459Z"}';
const LAST_MATCH =
  '{"type":"last_match","trade_id":881613,"maker_order_id":"27fff20b-af29-4f45-8744-56dd1ef57dc0","taker_order_id":"1da6ce16-c8da-4732-9f71-6049f4c6aaf8","side":"sell","size":"0.04","price":"14.7775","product_id":"BAND-GBP","sequence":333938798,"time":"2021-04-17T16:43:30.244075Z"}';

describe('coinbase mapper', () => {
  it("maps a match: side is the maker's, so a resting sell means the taker bought", () => {
    const ev = mapCoinbase(MATCH, RECEIVED);
    expect(ev).toEqual({
      kind: 'trade',
      seq: 10,
      trade: {
        schema_version: 1,
        event_id: 'coinbase:BTC-USD:10',
        exchange: 'coinbase',
        symbol: 'BTC-USD',
        trade_id: '10',
        price: 400.23,
        quantity: 5.23512,
        // 400 × 5.23512 = 2094.048; 0.23 × 5.23512 = 1.2040776
        quote_volume: 2095.2520776,
        side: 'buy',
        timestamp: '2014-11-07T08:19:27.028459Z', // microseconds kept
        ingested_at: '2024-05-01T12:00:00.005Z',
      },
    });
    if (ev.kind === 'trade') expect(UnifiedTradeSchema.parse(ev.trade)).toEqual(ev.trade);
  });

  it('maps last_match like a match (the engine drops it when already seen)', () => {
    const ev = mapCoinbase(LAST_MATCH, RECEIVED);
    expect(ev.kind).toBe('trade');
    if (ev.kind !== 'trade') return;
    expect(ev.seq).toBe(881613);
    expect(ev.trade.event_id).toBe('coinbase:BAND-GBP:881613');
    expect(ev.trade.side).toBe('buy');
    expect(ev.trade.quote_volume).toBe(0.5911); // 14.7775 × 0.04
  });

  it('a buy maker side means the taker sold', () => {
    const ev = mapCoinbase(MATCH.replace('"side":"sell"', '"side":"buy"'), RECEIVED);
    expect(ev.kind === 'trade' && ev.trade.side).toBe('sell');
  });

  it('normalizes time precision: milliseconds stay milliseconds, none become .000', () => {
    const t = (time: string) => {
      const ev = mapCoinbase(MATCH.replace('2014-11-07T08:19:27.028459Z', time), RECEIVED);
      return ev.kind === 'trade' ? ev.trade.timestamp : ev.kind;
    };
    expect(t('2024-01-01T00:00:00.12Z')).toBe('2024-01-01T00:00:00.120Z');
    expect(t('2024-01-01T00:00:00Z')).toBe('2024-01-01T00:00:00.000Z');
    expect(t('2024-01-01T00:00:00.1234567Z')).toBe('2024-01-01T00:00:00.123456Z');
    expect(t('2024-01-01T00:00:00.123+01:00')).toBe('rejected');
  });

  it('reads the last trade id from heartbeats and yields no trade', () => {
    expect(mapCoinbase(HEARTBEAT, RECEIVED)).toEqual({ kind: 'heartbeat', symbol: 'BTC-USD', lastSeq: 20 });
  });

  it('yields no trade for protocol chatter and other channels', () => {
    expect(mapCoinbase('{"type":"subscriptions","channels":[{"name":"matches","product_ids":["BTC-USDT"]}]}', RECEIVED)).toEqual({
      kind: 'control',
      detail: 'subscriptions',
    });
    // A refused subscription is final; other errors are not.
    expect(mapCoinbase('{"type":"error","message":"Failed to subscribe","reason":"FOO-BAR is not a valid product"}', RECEIVED)).toEqual({
      kind: 'exchange_error',
      detail: 'Failed to subscribe: FOO-BAR is not a valid product',
      fatal: true,
    });
    expect(mapCoinbase('{"type":"error","message":"rate limit exceeded"}', RECEIVED)).toEqual({
      kind: 'exchange_error',
      detail: 'rate limit exceeded',
      fatal: false,
    });
    expect(mapCoinbase('{"type":"ticker","product_id":"BTC-USD"}', RECEIVED)).toEqual({ kind: 'ignored', detail: 'type ticker' });
  });

  it.each([
    ['not JSON', '{"type":"match"', 'invalid JSON'],
    ['null', 'null', 'not a JSON object'],
    ['trade_id as string', MATCH.replace('"trade_id":10', '"trade_id":"10"'), 'trade_id is not a non-negative integer'],
    ['lower-case product', MATCH.replace('BTC-USD', 'btc-usd'), 'product_id is not BASE-QUOTE'],
    ['price as number', MATCH.replace('"price":"400.23"', '"price":400.23'), 'price or size is not a decimal string'],
    ['bad side', MATCH.replace('"side":"sell"', '"side":"hold"'), 'side is neither buy nor sell'],
    ['time missing', MATCH.replace('"time":"2014-11-07T08:19:27.028459Z",', ''), 'time is not a string'],
    ['zero size', MATCH.replace('"size":"5.23512"', '"size":"0"'), 'price or size must be positive'],
    ['no type', '{"trade_id":1}', 'no message type'],
  ])('rejects %s', (_name, frame, reason) => {
    expect(mapCoinbase(frame, RECEIVED)).toEqual({ kind: 'rejected', reason });
  });
});
