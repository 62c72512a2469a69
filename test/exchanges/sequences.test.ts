import { describe, expect, it } from 'vitest';
import { TradeSequences, type SequenceRestart, type TradeGap } from '../../src/exchanges/sequences.js';

function tracker(exchange: 'binance' | 'coinbase' = 'coinbase') {
  const gaps: TradeGap[] = [];
  const resets: number[] = [];
  const restarts: SequenceRestart[] = [];
  const s = new TradeSequences(exchange, {
    settleMs: 100,
    onGap: (g) => gaps.push(g),
    onReset: (r) => {
      resets.push(r.seq);
      restarts.push(r);
    },
  });
  return { s, gaps, resets, restarts };
}

describe('trade sequences', () => {
  it('drops repeats and confirms a jump as one gap with its range once it has settled', () => {
    const { s, gaps } = tracker();
    expect([100, 101, 101, 100, 105].map((id) => s.accept('BTC-USDT', id, 0))).toEqual([true, true, false, false, true]);
    s.settle(99);
    expect(gaps).toEqual([]); // still provisional
    s.settle(100);
    expect(gaps).toEqual([{ exchange: 'coinbase', symbol: 'BTC-USDT', from: 102, to: 104, count: 3 }]);
    expect(s.totals()).toEqual({ gaps: 1, missingTrades: 3, backfilled: 0, restarts: 0 });
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
    expect(s.totals()).toEqual({ gaps: 1, missingTrades: 2, backfilled: 0, restarts: 0 });
    expect(s.accept('ETH-USDT', 5, 2_000)).toBe(true); // late, after confirmation: still not a duplicate
    expect(s.totals()).toEqual({ gaps: 1, missingTrades: 1, backfilled: 0, restarts: 0 });
  });

  it('keeps symbols apart', () => {
    const { s } = tracker('binance');
    expect(s.accept('BTC-USDT', 10, 0)).toBe(true);
    expect(s.accept('ETH-USDT', 10, 0)).toBe(true);
    s.settle(0, true);
    expect(s.totals().gaps).toBe(0);
  });

  it('counts trades the exchange says it printed beyond what we saw (Coinbase heartbeat), unless they arrive', () => {
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

  it('a sequence restarted a little below the last id is kept, logged and counted, not dropped as duplicates', () => {
    const { s, restarts } = tracker('binance');
    // The first run: ids 5000..5999, one trade a millisecond from t0.
    const t0 = Date.UTC(2024, 4, 1, 12);
    for (let i = 0; i < 1_000; i++) expect(s.accept('BTC-USDT', 5_000 + i, i, t0 + i)).toBe(true);
    // The exchange starts over from 5000 a minute later: the same ids, newer trades.
    const t1 = t0 + 60_000;
    const again = Array.from({ length: 300 }, (_, i) => s.accept('BTC-USDT', 5_000 + i, 2_000 + i, t1 + i));
    expect(again.every(Boolean)).toBe(true);
    expect(restarts).toEqual([
      { exchange: 'binance', symbol: 'BTC-USDT', last: 5_999, seq: 5_000, why: 'an id already seen, on a trade of another time' },
    ]);
    expect(s.totals()).toEqual({ gaps: 0, missingTrades: 0, backfilled: 0, restarts: 1 });
    // Within the new sequence, a repeat is still a repeat.
    expect(s.accept('BTC-USDT', 5_299, 3_000, t1 + 299)).toBe(false);
    expect(s.accept('BTC-USDT', 5_300, 3_000, t1 + 300)).toBe(true);
  });

  it("a restart confirms the old sequence's open gaps at once: they can no longer fill", () => {
    const { s, gaps, restarts } = tracker('binance');
    const t0 = Date.UTC(2024, 4, 1, 12);
    for (const id of [5_000, 5_001, 5_004]) s.accept('BTC-USDT', id, 0, t0 + id); // 5002-5003 not seen yet
    expect(gaps).toEqual([]);
    expect(s.accept('BTC-USDT', 5_000, 10, t0 + 60_000)).toBe(true); // restarted, well within the settle time
    expect(restarts).toHaveLength(1);
    expect(gaps).toEqual([{ exchange: 'binance', symbol: 'BTC-USDT', from: 5_002, to: 5_003, count: 2 }]);
    expect(s.totals()).toEqual({ gaps: 1, missingTrades: 2, backfilled: 0, restarts: 1 });
    s.settle(1_000, true);
    expect(gaps).toHaveLength(1); // not counted twice
  });

  it('a restart is known by its first trade, even one older than the newest seen (stamped before the session)', () => {
    const { s, restarts } = tracker('coinbase');
    const t0 = Date.UTC(2024, 4, 1, 12);
    for (let id = 700; id <= 900; id++) s.accept('BTC-USDT', id, 0, t0 + id * 10);
    // last_match of the restarted feed: id 700 again, a trade from a second before the newest we saw.
    expect(s.accept('BTC-USDT', 700, 1, t0 + 900 * 10 - 1_000)).toBe(true);
    expect(s.accept('BTC-USDT', 701, 1, t0 + 10_000)).toBe(true);
    expect(restarts).toEqual([
      { exchange: 'coinbase', symbol: 'BTC-USDT', last: 900, seq: 700, why: 'an id already seen, on a trade of another time' },
    ]);
  });

  it('ids below everything seen, on trades newer than everything seen, are a restart too', () => {
    const { s, restarts } = tracker('binance');
    const t0 = Date.UTC(2024, 4, 1, 12);
    for (let id = 5_000; id <= 5_010; id++) s.accept('SOL-USDT', id, 0, t0 + id);
    expect(s.accept('SOL-USDT', 1_000, 1, t0 + 60_000)).toBe(true);
    expect(restarts.map((r) => [r.last, r.seq, r.why])).toEqual([
      [5_010, 1_000, 'an id already passed, on a trade newer than every trade seen'],
    ]);
    // Without times, only a jump beyond the tracked window is known: a small one is counted as repeats, as before.
    const untimed = tracker('binance');
    untimed.s.accept('SOL-USDT', 5_000, 0);
    expect(untimed.s.accept('SOL-USDT', 1_000, 1)).toBe(false);
  });

  it('true duplicates stay dropped: a reconnect overlap and a repeated last_match carry their old times', () => {
    const { s, restarts } = tracker('coinbase');
    const t0 = Date.UTC(2024, 4, 1, 12);
    for (let id = 100; id <= 110; id++) s.accept('ETH-USDT', id, 0, t0 + id);
    // last_match after a resubscribe: the last trade again.
    expect(s.accept('ETH-USDT', 110, 1, t0 + 110)).toBe(false);
    // Make-before-break: the new connection repeats the last few trades the old one delivered.
    expect([106, 107, 108, 109, 110].map((id) => s.accept('ETH-USDT', id, 2, t0 + id))).toEqual([false, false, false, false, false]);
    // Trades within one millisecond: a repeat of one of them is no newer than the newest.
    s.accept('ETH-USDT', 111, 3, t0 + 200);
    s.accept('ETH-USDT', 112, 3, t0 + 200);
    expect(s.accept('ETH-USDT', 111, 4, t0 + 200)).toBe(false);
    expect(restarts).toEqual([]);
    expect(s.totals().restarts).toBe(0);
  });

  it('settles everything when forced (at shutdown)', () => {
    const { s, gaps } = tracker();
    s.accept('SOL-USDT', 1, 0);
    s.accept('SOL-USDT', 3, 0);
    s.settle(0, true);
    expect(gaps).toHaveLength(1);
  });

  it('a backfilled id still missing is taken once; a live copy after it is a duplicate, one before it wins', () => {
    const { s } = tracker();
    for (const id of [1, 2, 9]) s.accept('BTC-USDT', id, 0, 1_000 + id);
    s.settle(100);
    expect(s.stillMissing('BTC-USDT', 3, 8)).toEqual([[3, 8]]);
    expect(s.accept('BTC-USDT', 5, 150, 1_005)).toBe(true); // the live copy came first
    expect([3, 4, 5, 6].map((id) => s.fill('BTC-USDT', id, 1_000 + id))).toEqual([true, true, false, true]);
    expect(s.accept('BTC-USDT', 4, 200, 1_004)).toBe(false); // a late live copy of a backfilled trade
    expect(s.stillMissing('BTC-USDT', 3, 8)).toEqual([[7, 8]]);
    expect(s.fill('BTC-USDT', 2, 1_002)).toBe(false); // emitted long ago
    expect(s.totals()).toEqual({ gaps: 1, missingTrades: 2, backfilled: 3, restarts: 0 });
  });

  it('reports the ids still missing of a range as ranges', () => {
    const { s } = tracker();
    for (const id of [10, 20]) s.accept('ETH-USDT', id, 0);
    for (const id of [12, 13, 17]) s.accept('ETH-USDT', id, 0);
    expect(s.stillMissing('ETH-USDT', 11, 19)).toEqual([
      [11, 11],
      [14, 16],
      [18, 19],
    ]);
    expect(s.stillMissing('ETH-USDT', 1, 20_001)).toEqual([[1, 20_001]]); // beyond the tracked window: all of it
    expect(s.stillMissing('SOL-USDT', 1, 5)).toEqual([]);
  });

  it('ids dropped to keep the bookkeeping bounded stay missing: never filled, still named', () => {
    const { s } = tracker();
    // Two gaps of 6,000: the set of missing ids keeps 10,000, so the first gap's oldest 2,000 (2..2001) are let go.
    for (const id of [1, 6_002, 12_003]) s.accept('BTC-USDT', id, 0, 1_000 + id);
    s.settle(100);
    expect(s.totals().missingTrades).toBe(12_000);
    expect(s.fill('BTC-USDT', 2, 1_002)).toBe(false);
    expect(s.fill('BTC-USDT', 2_002, 3_002)).toBe(true);
    expect(s.stillMissing('BTC-USDT', 2, 6_001)).toEqual([
      [2, 2_001],
      [2_003, 6_001],
    ]);
    expect(s.totals()).toMatchObject({ missingTrades: 11_999, backfilled: 1 });
  });

  it("a restarted sequence's missing ids cannot be filled any more and stay named", () => {
    const { s } = tracker();
    for (const id of [100, 105]) s.accept('BTC-USDT', id, 0, 1_000 + id);
    expect(s.accept('BTC-USDT', 3, 10, 5_000)).toBe(true); // ids went back on a newer trade: a restart
    expect(s.fill('BTC-USDT', 102, 1_102)).toBe(false);
    expect(s.stillMissing('BTC-USDT', 101, 104)).toEqual([[101, 104]]);
    expect(s.totals()).toMatchObject({ gaps: 1, missingTrades: 4, backfilled: 0, restarts: 1 });
  });
});
