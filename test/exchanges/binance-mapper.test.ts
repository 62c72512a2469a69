import { describe, expect, it } from 'vitest';
import { createBinanceMapper } from '../../src/exchanges/binance/mapper.js';
import { UnifiedTradeSchema } from '../../src/trade.js';

const RECEIVED = Date.UTC(2024, 4, 1, 12, 0, 0, 250); // 2024-05-01T12:00:00.250Z
// What was subscribed: Binance's names for the unified symbols, as its exchangeInfo splits them.
const SUBSCRIBED = new Map([
  ['BNBBTC', 'BNB-BTC'],
  ['BTCUSDT', 'BTC-USDT'],
  ['ETHUSDT', 'ETH-USDT'],
]);
const map = createBinanceMapper('ms', SUBSCRIBED);

// Frames recorded from Binance's public documentation (shared/EXCHANGES.md).
const COMBINED_OLD =
  '{"stream":"bnbbtc@trade","data":{"e":"trade","E":1554076800945,"s":"BNBBTC","t":40756030,"p":"0.00426990","q":"33.82000000","b":133829535,"a":133829504,"T":1554076800940,"m":false,"M":true}}';
const RAW_CURRENT = '{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}';
const AGG_TRADE =
  '{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}';

describe('binance mapper', () => {
  it('maps a combined-stream trade with the pre-2024 b/a fields', () => {
    const ev = map(COMBINED_OLD, RECEIVED);
    expect(ev).toEqual({
      kind: 'trade',
      seq: 40756030,
      trade: {
        schema_version: 1,
        event_id: 'binance:BNB-BTC:40756030',
        exchange: 'binance',
        symbol: 'BNB-BTC',
        trade_id: '40756030',
        price: 0.0042699,
        quantity: 33.82,
        // 0.0042699 × 33.82 = 0.1409067 + 0.003501318, worked out by hand
        quote_volume: 0.144408018,
        side: 'buy', // m=false: the buyer was the taker
        timestamp: '2019-04-01T00:00:00.940Z',
        ingested_at: '2024-05-01T12:00:00.250Z',
      },
    });
    if (ev.kind === 'trade') expect(UnifiedTradeSchema.parse(ev.trade)).toEqual(ev.trade);
  });

  it('maps a raw trade: m=true means the buyer was the maker, so the taker sold', () => {
    const ev = map(RAW_CURRENT, RECEIVED);
    expect(ev.kind).toBe('trade');
    if (ev.kind !== 'trade') return;
    expect(ev.trade.side).toBe('sell');
    expect(ev.trade.quote_volume).toBe(0.1);
    expect(ev.trade.timestamp).toBe('2022-12-31T19:43:02.136Z');
    expect(ev.trade.event_id).toBe('binance:BNB-BTC:12345');
  });

  it('computes quote volume in decimal, not binary floating point', () => {
    const frame = '{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"0.1","q":"0.2","T":1700000000000,"m":false}';
    const ev = map(frame, RECEIVED);
    expect(ev.kind === 'trade' && ev.trade.quote_volume).toBe(0.02); // 0.1 * 0.2 === 0.020000000000000004 in float
    const big = '{"e":"trade","E":1,"s":"BTCUSDT","t":2,"p":"67012.34000000","q":"1.23456789","T":1700000000000,"m":false}';
    const ev2 = map(big, RECEIVED);
    // 6701234 × 123456789 = 827312831977626 (checked with Python Decimal), 10 decimals
    expect(ev2.kind === 'trade' && ev2.trade.quote_volume).toBe(82731.2831977626);
  });

  it('keeps microseconds when the URL asked for timeUnit=MICROSECOND', () => {
    const us = createBinanceMapper('us', SUBSCRIBED);
    const frame = '{"e":"trade","E":1672515782136123,"s":"ETHUSDT","t":9,"p":"2000.5","q":"2","T":1672515782136123,"m":false}';
    const ev = us(frame, RECEIVED);
    expect(ev.kind === 'trade' && ev.trade.timestamp).toBe('2022-12-31T19:43:02.136123Z');
    expect(ev.kind === 'trade' && ev.trade.symbol).toBe('ETH-USDT');
  });

  it("names a trade's symbol as it was subscribed, however the name could be split", () => {
    const frame = (s: string) => `{"e":"trade","E":1,"s":"${s}","t":1,"p":"1","q":"1","T":1700000000000,"m":false}`;
    // ARBUSD is AR/BUSD on Binance; a split by suffix would make it ARB-USD.
    const subscribed = createBinanceMapper(
      'ms',
      new Map([
        ['ARBUSD', 'AR-BUSD'],
        ['USDCUSDT', 'USDC-USDT'],
      ]),
    );
    const sym = (s: string) => {
      const ev = subscribed(frame(s), RECEIVED);
      return ev.kind === 'trade' ? [ev.trade.symbol, ev.trade.event_id] : ev;
    };
    expect(sym('ARBUSD')).toEqual(['AR-BUSD', 'binance:AR-BUSD:1']);
    expect(sym('USDCUSDT')).toEqual(['USDC-USDT', 'binance:USDC-USDT:1']);
    expect(sym('BTCUSDT')).toEqual({ kind: 'rejected', reason: 'trade of BTCUSDT, a symbol not subscribed to' });
  });

  it('yields no trade for other events and protocol chatter', () => {
    expect(map(AGG_TRADE, RECEIVED)).toEqual({ kind: 'ignored', detail: 'event aggTrade' });
    expect(map('{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1700000000000}}', RECEIVED)).toEqual({ kind: 'shutdown' });
    expect(map('{"e":"serverShutdown","E":1700000000000}', RECEIVED)).toEqual({ kind: 'shutdown' });
    expect(map('{"result":null,"id":1}', RECEIVED)).toEqual({ kind: 'control', detail: 'reply to request 1' });
    expect(map('{"code":3,"msg":"Invalid JSON: expected value at line 1 column 1"}', RECEIVED)).toEqual({
      kind: 'exchange_error',
      detail: 'code 3: Invalid JSON: expected value at line 1 column 1',
      fatal: false,
    });
  });

  it.each([
    ['not JSON', '{"e":"trade",', 'invalid JSON'],
    ['an array', '[1,2]', 'not a JSON object'],
    [
      'price as a number',
      '{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":65000,"q":"1","T":1700000000000,"m":false}',
      'price or quantity is not a decimal string',
    ],
    [
      'price missing',
      '{"e":"trade","E":1,"s":"BTCUSDT","t":1,"q":"1","T":1700000000000,"m":false}',
      'price or quantity is not a decimal string',
    ],
    [
      'exponent notation',
      '{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1e3","q":"1","T":1700000000000,"m":false}',
      'price or quantity is not a decimal string',
    ],
    [
      'zero quantity',
      '{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"0.000","T":1700000000000,"m":false}',
      'price or quantity must be positive',
    ],
    [
      'negative price',
      '{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"-1","q":"1","T":1700000000000,"m":false}',
      'price or quantity is not a decimal string',
    ],
    [
      'trade id as string',
      '{"e":"trade","E":1,"s":"BTCUSDT","t":"1","p":"1","q":"1","T":1700000000000,"m":false}',
      'trade id is not a non-negative integer',
    ],
    ['m missing', '{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1700000000000}', 'buyer-is-maker flag is not a boolean'],
    ['no event type', '{"foo":1}', 'no event type'],
    [
      'a time past the year 275760',
      '{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":9000000000000000,"m":false}',
      'trade time is not a plausible epoch time in the unit asked for',
    ],
    [
      'microseconds where milliseconds were asked for',
      '{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1700000000000000,"m":false}',
      'trade time is not a plausible epoch time in the unit asked for',
    ],
    [
      'a fractional time',
      '{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1700000000000.5,"m":false}',
      'trade time is not a plausible epoch time in the unit asked for',
    ],
    ['a JSON object that looks like an event', '{"kind":"trade","trade":{}}', 'no event type'],
    ['combined data not an object', '{"stream":"x","data":5}', 'combined-stream data is not an object'],
  ])('rejects %s', (_name, frame, reason) => {
    expect(map(frame, RECEIVED)).toEqual({ kind: 'rejected', reason });
  });
});
