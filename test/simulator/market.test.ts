import { describe, expect, it } from 'vitest';
import { canonicalText, fixedText } from '../../src/simulator/market/amounts.js';
import { Market, type MarketTrade, type TimelineItem } from '../../src/simulator/market/generator.js';
import { createPrng, mulberry32 } from '../../src/simulator/prng.js';
import { BTC_ETH, productAtLeast, testScenario, UUID } from '../helpers/simulator.js';

const trades = (items: TimelineItem[]): MarketTrade[] => items.flatMap((i) => (i.kind === 'trade' ? [i.trade] : []));
const key = (t: MarketTrade): string =>
  `${t.exchange} ${t.symbol} ${t.tradeId} ${canonicalText(t.price)} ${canonicalText(t.size)} ${t.takerSide}`;
const decimal = (v: { units: number; decimals: number }): number => v.units / 10 ** v.decimals;

describe('prng', () => {
  it('is mulberry32: the published first outputs for seed 1', () => {
    const next = mulberry32(1);
    // Reference values of the public-domain mulberry32 (Tommy Ettinger) for seed 1.
    expect(next()).toBe(0.6270739405881613);
    expect(next()).toBe(0.002735721180215478);
  });

  it('makes version-4-shaped uuids, the same ones for the same seed', () => {
    const a = createPrng(5);
    const b = createPrng(5);
    const ids = Array.from({ length: 50 }, () => a.uuid());
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(50);
    expect(Array.from({ length: 50 }, () => b.uuid())).toEqual(ids);
  });
});

describe('amounts', () => {
  it('prints exact decimals, shortest or with fixed decimals', () => {
    expect(canonicalText({ units: 6500001, decimals: 2 })).toBe('65000.01');
    expect(canonicalText({ units: 6500000, decimals: 2 })).toBe('65000');
    expect(canonicalText({ units: 5, decimals: 3 })).toBe('0.005');
    expect(canonicalText({ units: 120, decimals: 5 })).toBe('0.0012');
    expect(fixedText({ units: 6500001, decimals: 2 }, 8)).toBe('65000.01000000');
    expect(fixedText({ units: 120, decimals: 5 }, 8)).toBe('0.00120000');
    expect(fixedText({ units: 7, decimals: 0 }, 0)).toBe('7');
  });
});

describe('market generator', () => {
  const scenario = testScenario({ rate: 1000, symbols: BTC_ETH });

  it('prints the same sequence however finely time is advanced', () => {
    const coarse = new Market(scenario, 11);
    const fine = new Market(scenario, 11);
    const a = trades(coarse.advanceTo(2));
    const b: MarketTrade[] = [];
    for (let t = 0.0007; t <= 2; t += 0.0007) b.push(...trades(fine.advanceTo(t)));
    b.push(...trades(fine.advanceTo(2)));
    expect(a.length).toBeGreaterThan(1900);
    expect(b.map(key)).toEqual(a.map(key));
    expect(fine.initialTrades.map(key)).toEqual(coarse.initialTrades.map(key));
  });

  it('prints a different sequence for another seed', () => {
    const a = trades(new Market(scenario, 1).advanceTo(0.5)).map(key);
    const b = trades(new Market(scenario, 2).advanceTo(0.5)).map(key);
    expect(a).toHaveLength(b.length);
    expect(a).not.toEqual(b);
  });

  it('numbers trades consecutively per (exchange, symbol), after the initial trade', () => {
    const market = new Market(scenario, 3);
    expect(market.initialTrades).toHaveLength(4); // 2 exchanges × 2 symbols
    const next = new Map(market.initialTrades.map((t) => [`${t.exchange} ${t.symbol}`, t.tradeId + 1]));
    for (const t of trades(market.advanceTo(1))) {
      const k = `${t.exchange} ${t.symbol}`;
      expect(t.tradeId).toBe(next.get(k));
      next.set(k, t.tradeId + 1);
    }
  });

  it('stops at totalTrades', () => {
    const market = new Market(testScenario({ rate: 1000, totalTrades: 123 }));
    expect(trades(market.advanceTo(0.05))).toHaveLength(50);
    expect(market.finished).toBe(false);
    expect(trades(market.advanceTo(100))).toHaveLength(73);
    expect(market.finished).toBe(true);
    expect(market.advanceTo(200)).toEqual([]);
  });

  it('stops after durationSeconds of virtual time, not before', () => {
    const market = new Market(testScenario({ rate: 100, durationSeconds: 2 }));
    const first = trades(market.advanceTo(1.999));
    expect(market.finished).toBe(false);
    const rest = trades(market.advanceTo(5));
    expect(market.finished).toBe(true);
    // One trade every 10 ms for 2 s, the last one at exactly 2.000 s.
    expect(first).toHaveLength(199);
    expect(rest).toHaveLength(1);
  });

  it('prints a whale whose notional is at least the target and within 0.01 % of it', () => {
    const s = testScenario({
      rate: 1000,
      symbols: BTC_ETH,
      events: [
        { atTrade: 10, type: 'whale', exchange: 'coinbase', symbol: 'ETH-USDT', side: 'sell', quoteVolume: 250000 },
        { atTrade: 20, type: 'whale', exchange: 'binance', symbol: 'BTC-USDT', side: 'buy', quoteVolume: 100000.5 },
      ],
    });
    const items = new Market(s, 9).advanceTo(1);
    const whales = items.flatMap((item, i) => (item.kind === 'event' ? [items[i + 1]] : []));
    expect(items.findIndex((i) => i.kind === 'event')).toBe(10); // after exactly 10 trades
    const [eth, btc] = whales.map((w) => (w?.kind === 'trade' ? w.trade : undefined));
    expect(eth).toMatchObject({ exchange: 'coinbase', symbol: 'ETH-USDT', takerSide: 'sell' });
    expect(btc).toMatchObject({ exchange: 'binance', symbol: 'BTC-USDT', takerSide: 'buy' });
    for (const [t, target, ceiling] of [
      [eth, '250000', '250025'],
      [btc, '100000.5', '100010.50005'],
    ] as const) {
      const price = canonicalText(t!.price);
      const size = canonicalText(t!.size);
      expect(productAtLeast(price, size, target)).toBe(true);
      expect(productAtLeast(price, size, ceiling)).toBe(false);
    }
  });

  it("multiplies one stream's flow during a volume spike, and the total rate with it", () => {
    const s = testScenario({
      rate: 100,
      exchanges: ['binance', 'coinbase'],
      events: [{ at: 1, type: 'volume_spike', symbol: 'BTC-USDT', exchange: 'binance', multiplier: 10, durationSeconds: 1 }],
    });
    const market = new Market(s, 4);
    const before = trades(market.advanceTo(1));
    const during = trades(market.advanceTo(2));
    const after = trades(market.advanceTo(3));
    // Two equal streams at 100/s; the spike weighs them 10:1, so 100 × 11/2 = 550 trades/s.
    expect(before.length).toBeGreaterThanOrEqual(99);
    expect(during.length).toBeGreaterThanOrEqual(545);
    expect(during.length).toBeLessThanOrEqual(555);
    expect(after.length).toBeGreaterThanOrEqual(95);
    expect(after.length).toBeLessThanOrEqual(105);
    const share = during.filter((t) => t.exchange === 'binance').length / during.length;
    expect(share).toBeGreaterThan(0.85); // 10/11 ≈ 0.91
  });

  it("offsets one exchange's price by pct during a dislocation", () => {
    const s = testScenario({
      rate: 200,
      exchangeOffsetPct: 0,
      halfSpreadPct: 0,
      symbols: [{ symbol: 'BTC-USDT', startPrice: 65000, volatility: 0 }],
      events: [{ at: 1, type: 'dislocation', symbol: 'BTC-USDT', exchange: 'coinbase', pct: 1, durationSeconds: 1 }],
    });
    const market = new Market(s, 5);
    const prices = (list: MarketTrade[], exchange: string): Set<number> =>
      new Set(list.filter((t) => t.exchange === exchange).map((t) => decimal(t.price)));
    // Trades close to the edges are left out: which side of 1.000 s a trade lands on is float detail.
    const before = trades(market.advanceTo(0.9));
    market.advanceTo(1.1);
    const during = trades(market.advanceTo(1.9));
    market.advanceTo(2.1);
    const after = trades(market.advanceTo(3));
    expect(prices(before, 'coinbase')).toEqual(new Set([65000]));
    expect(prices(during, 'coinbase')).toEqual(new Set([65650])); // 65000 × 1.01
    expect(prices(during, 'binance')).toEqual(new Set([65000]));
    expect(prices(after, 'coinbase')).toEqual(new Set([65000]));
  });

  it('draws skewed sizes around the mean notional, below the cap, with both sides', () => {
    const free = trades(
      new Market(
        testScenario({ rate: 10000, symbols: [{ symbol: 'BTC-USDT', startPrice: 65000, meanNotional: 1000, sizeDecimals: 6 }] }),
        8,
      ).advanceTo(2),
    );
    const notionals = free.map((t) => decimal(t.price) * decimal(t.size));
    const mean = notionals.reduce((a, b) => a + b, 0) / notionals.length;
    expect(mean).toBeGreaterThan(900);
    expect(mean).toBeLessThan(1100);
    const sorted = [...notionals].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    expect(median).toBeLessThan(mean * 0.8); // log-normal: the median sits well below the mean
    const buys = free.filter((t) => t.takerSide === 'buy').length / free.length;
    expect(buys).toBeGreaterThan(0.45);
    expect(buys).toBeLessThan(0.55);

    const capped = trades(new Market(testScenario({ rate: 10000, maxNotional: 5000 }), 8).advanceTo(2));
    for (const t of capped) expect(decimal(t.price) * decimal(t.size)).toBeLessThanOrEqual(5000);
  });

  it('fires events in time order, count events after exactly N trades', () => {
    const s = testScenario({
      rate: 100,
      events: [
        { at: 0.5, type: 'disconnect' },
        { atTrade: 7, type: 'malformed', exchange: 'binance', count: 1 },
        { at: 0.2, type: 'silence', durationSeconds: 1 },
      ],
    });
    const items = new Market(s, 1).advanceTo(1);
    const events = items.flatMap((item, i) =>
      item.kind === 'event'
        ? [{ type: item.event.type, tradesBefore: items.slice(0, i).filter((x) => x.kind === 'trade').length, seconds: item.seconds }]
        : [],
    );
    expect(events.map((e) => e.type)).toEqual(['malformed', 'silence', 'disconnect']);
    expect(events[0]!.tradesBefore).toBe(7);
    expect(events[1]!.seconds).toBe(0.2);
    expect(events[2]!.seconds).toBe(0.5);
    // 100 trades/s: the 20th trade prints at 0.2 s, just before the event at 0.2 s.
    expect(events[1]!.tradesBefore).toBeGreaterThanOrEqual(19);
    expect(events[1]!.tradesBefore).toBeLessThanOrEqual(20);
  });
});
