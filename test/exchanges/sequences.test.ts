import { describe, expect, it } from 'vitest';
import { TradeSequences, type TradeGap } from '../../src/exchanges/sequences.js';

function tracker(exchange: 'binance' | 'coinbase' = 'coinbase') {
  const gaps: TradeGap[] = [];
  const resets: number[] = [];
  const s = new TradeSequences(exchange, { settleMs: 100, onGap: (g) => gaps.push(g), onReset: (r) => resets.push(r.seq) });
  return { s, gaps, resets };
}

describe('trade sequences', () => {
  it('drops repeats and confirms a jump as one gap with its range once it has settled', () => {
    const { s, gaps } = tracker();
    expect([100, 101, 101, 100, 105].map((id) => s.accept('BTC-USDT', id, 0))).toEqual([true, true, false, false, true]);
    s.settle(99);
    expect(gaps).toEqual([]); // still provisional
    s.settle(100);
    expect(gaps).toEqual([{ exchange: 'coinbase', symbol: 'BTC-USDT', from: 102, to: 104, count: 3 }]);
    expect(s.totals()).toEqual({ gaps: 1, missingTrades: 3 });
  });

  it('a gap filled before it settles is no gap; one partly filled counts what is still missing', () => {
    const { s, gaps } = tracker('binance');
    s.accept('ETH-USDT', 1, 0);
    s.accept('ETH-USDT', 4, 0); // 2 and 3 missing for now
    expect(s.accept('ETH-USDT', 2, 10)).toBe(true);
    expect(s.accept('ETH-USDT', 3, 20)).toBe(true);
    s.accept('ETH-USDT', 8, 30); // 5, 6, 7
    expect(s.accept('ETH-USDT', 6, 40)).toBe(true);
    expect(s.accept('ETH-USDT', 6, 50)).toBe(false);
    s.settle(1_000);
    expect(gaps).toEqual([{ exchange: 'binance', symbol: 'ETH-USDT', from: 5, to: 7, count: 2 }]);
    expect(s.totals()).toEqual({ gaps: 1, missingTrades: 2 });
    expect(s.accept('ETH-USDT', 5, 2_000)).toBe(true); // late, after confirmation: still not a duplicate
    expect(s.totals()).toEqual({ gaps: 1, missingTrades: 1 });
  });

  it('keeps symbols apart', () => {
    const { s } = tracker('binance');
    expect(s.accept('BTC-USDT', 10, 0)).toBe(true);
    expect(s.accept('ETH-USDT', 10, 0)).toBe(true);
    s.settle(0, true);
    expect(s.totals().gaps).toBe(0);
  });

  it("counts trades the exchange says it printed beyond what we saw (Coinbase heartbeat), unless they arrive", () => {
    const { s, gaps } = tracker();
    s.accept('BTC-USDT', 7, 0);
    s.observeLast('BTC-USDT', 7, 0);
    s.observeLast('BTC-USDT', 9, 0);
    expect(s.accept('BTC-USDT', 8, 10)).toBe(true); // the heartbeat overtook this match
    s.settle(1_000);
    expect(gaps).toEqual([{ exchange: 'coinbase', symbol: 'BTC-USDT', from: 8, to: 9, count: 1 }]);
    expect(s.accept('BTC-USDT', 10, 1_000)).toBe(true);
  });

  it('a bogus far-ahead id does not silence the symbol: ids far below restart the count', () => {
    const { s, gaps, resets } = tracker('binance');
    s.accept('BTC-USDT', 100, 0);
    s.accept('BTC-USDT', 101, 0);
    expect(s.accept('BTC-USDT', 9_000_000_000, 0)).toBe(true);
    expect(s.accept('BTC-USDT', 102, 1)).toBe(true);
    expect(resets).toEqual([102]);
    expect(s.accept('BTC-USDT', 103, 2)).toBe(true);
    expect(s.accept('BTC-USDT', 103, 3)).toBe(false);
    s.settle(1_000);
    expect(gaps).toEqual([]); // the provisional 9-billion-trade gap went with the reset
  });

  it('settles everything when forced (at shutdown)', () => {
    const { s, gaps } = tracker();
    s.accept('SOL-USDT', 1, 0);
    s.accept('SOL-USDT', 3, 0);
    s.settle(0, true);
    expect(gaps).toHaveLength(1);
  });
});
