import { describe, expect, it } from 'vitest';
import { TradeSequences, type TradeGap } from '../../src/exchanges/sequences.js';

describe('trade sequences', () => {
  it('drops repeats and reports a jump as one gap with its range', () => {
    const gaps: TradeGap[] = [];
    const s = new TradeSequences('coinbase', (g) => gaps.push(g));
    expect([100, 101, 101, 100, 105].map((id) => s.accept('BTC-USDT', id))).toEqual([true, true, false, false, true]);
    expect(gaps).toEqual([{ exchange: 'coinbase', symbol: 'BTC-USDT', from: 102, to: 104, count: 3 }]);
    expect(s.totals()).toEqual({ gaps: 1, missingTrades: 3 });
  });

  it('accepts a late trade that fills a gap, once', () => {
    const s = new TradeSequences('binance');
    s.accept('ETH-USDT', 1);
    s.accept('ETH-USDT', 4);
    expect(s.accept('ETH-USDT', 3)).toBe(true);
    expect(s.accept('ETH-USDT', 3)).toBe(false);
    expect(s.totals()).toEqual({ gaps: 1, missingTrades: 1 });
  });

  it('keeps symbols apart', () => {
    const s = new TradeSequences('binance');
    expect(s.accept('BTC-USDT', 10)).toBe(true);
    expect(s.accept('ETH-USDT', 10)).toBe(true);
    expect(s.totals().gaps).toBe(0);
  });

  it("counts trades the exchange says it printed beyond what we saw (Coinbase heartbeat)", () => {
    const gaps: TradeGap[] = [];
    const s = new TradeSequences('coinbase', (g) => gaps.push(g));
    s.accept('BTC-USDT', 7);
    s.observeLast('BTC-USDT', 7);
    expect(gaps).toEqual([]);
    s.observeLast('BTC-USDT', 9);
    expect(gaps).toEqual([{ exchange: 'coinbase', symbol: 'BTC-USDT', from: 8, to: 9, count: 2 }]);
    expect(s.accept('BTC-USDT', 8)).toBe(true); // arrived after the heartbeat: not a duplicate
    expect(s.accept('BTC-USDT', 10)).toBe(true);
    expect(s.totals()).toEqual({ gaps: 1, missingTrades: 1 });
  });
});
