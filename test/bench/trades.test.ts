import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RECORDING_EPOCH_MS, recordingLines, sessionOnly, writeRecording } from '../../bench/trades.js';
import { Market, type MarketTrade } from '../../src/simulator/market/generator.js';
import { loadScenario } from '../../src/simulator/scenario-loader.js';
import { UnifiedTradeSchema, type UnifiedTrade } from '../../src/trade.js';

const scenario = loadScenario('default');
const parse = (lines: string[]): UnifiedTrade[] => lines.map((l) => UnifiedTradeSchema.parse(JSON.parse(l)));
const take = (count: number, seed?: number): string[] => [
  ...recordingLines(seed === undefined ? { count, scenario } : { count, scenario, seed }),
];
const ms = (iso: string): number => Date.parse(iso);
const EPOCH = '2024-05-01T00:00:00.000Z';

/** The market's own trades at 100 trades/s, straight from the generator: what the lines must carry. */
function marketTrades(count: number): MarketTrade[] {
  // The recording is the session: the default market's history (printed before it) is left out.
  expect(sessionOnly(scenario).history).toBeUndefined();
  const market = new Market({ ...scenario, history: undefined }, scenario.seed, 100);
  const out: MarketTrade[] = market.initialTrades.filter((t) => t.exchange === 'coinbase');
  // advanceTo returns what happened since the previous call, whatever the step.
  while (out.length < count) {
    for (const item of market.advanceTo(market.seconds + 1)) if (item.kind === 'trade') out.push(item.trade);
  }
  return out.slice(0, count);
}

describe('bench trades recording', () => {
  const lines = take(400);
  const trades = parse(lines);

  it('writes the asked number of unified trades, each valid against the schema', () => {
    expect(lines).toHaveLength(400);
    expect(trades).toHaveLength(400);
    expect(new Set(trades.map((t) => t.event_id)).size).toBe(400);
    expect(RECORDING_EPOCH_MS).toBe(Date.parse(EPOCH));
  });

  it('starts with Coinbase last_match for each product, then the session from the fixed epoch', () => {
    expect(trades.slice(0, 3).map((t) => `${t.exchange} ${t.symbol}`)).toEqual([
      'coinbase BTC-USDT',
      'coinbase ETH-USDT',
      'coinbase SOL-USDT',
    ]);
    for (const t of trades.slice(0, 3)) expect(ms(t.timestamp)).toBeLessThan(ms(EPOCH));
    for (const t of trades.slice(3)) expect(ms(t.timestamp)).toBeGreaterThanOrEqual(ms(EPOCH));
    // 100 trades per virtual second: the first session trade prints at 10 ms, 397 trades span ~3.97 s.
    expect(trades[3]!.timestamp.slice(0, 23)).toBe('2024-05-01T00:00:00.010');
    const spanS = (ms(trades[399]!.timestamp) - ms(EPOCH)) / 1000;
    expect(spanS).toBeGreaterThan(3.5);
    expect(spanS).toBeLessThan(4.5);
  });

  it('carries the market trades through the exchange frames and mappers: ids, prices, sizes, taker side', () => {
    const expected = marketTrades(400).map((t) => ({
      exchange: t.exchange,
      symbol: t.symbol,
      trade_id: String(t.tradeId),
      price: t.price.units / 10 ** t.price.decimals,
      quantity: t.size.units / 10 ** t.size.decimals,
      side: t.takerSide,
    }));
    const actual = trades.map((t) => ({
      exchange: t.exchange,
      symbol: t.symbol,
      trade_id: t.trade_id,
      price: t.price,
      quantity: t.quantity,
      side: t.side,
    }));
    expect(actual).toEqual(expected);
    for (const t of trades) expect(Math.abs(t.quote_volume - t.price * t.quantity) / t.quote_volume).toBeLessThan(1e-9);
    expect(new Set(trades.map((t) => `${t.exchange} ${t.symbol}`)).size).toBe(6);
  });

  it('has per stream consecutive trade ids and increasing times, and arrivals a few ms later, in line order', () => {
    const last = new Map<string, UnifiedTrade>();
    let previousArrival = -Infinity;
    for (const t of trades) {
      const key = `${t.exchange} ${t.symbol}`;
      const before = last.get(key);
      if (before) {
        expect(Number(t.trade_id)).toBe(Number(before.trade_id) + 1);
        // Binance stamps milliseconds, so two trades in one millisecond share a time.
        if (t.exchange === 'binance') expect(ms(t.timestamp)).toBeGreaterThanOrEqual(ms(before.timestamp));
        else expect(t.timestamp > before.timestamp).toBe(true);
      }
      last.set(key, t);
      const arrival = ms(t.ingested_at);
      expect(arrival).toBeGreaterThanOrEqual(previousArrival);
      expect(arrival).toBeGreaterThanOrEqual(ms(EPOCH)); // last_match arrives when the session starts
      if (ms(t.timestamp) >= ms(EPOCH)) {
        expect(arrival - ms(t.timestamp)).toBeGreaterThanOrEqual(2);
        expect(arrival - ms(t.timestamp)).toBeLessThanOrEqual(10);
      }
      previousArrival = arrival;
    }
  });

  it('is deterministic for a seed, and another seed gives another market', () => {
    expect(take(300)).toEqual(lines.slice(0, 300));
    const other = take(300, 7);
    expect(other).toHaveLength(300);
    expect(other).not.toEqual(lines.slice(0, 300));
  });

  describe('writeRecording', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'coattail-bench-trades-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('writes the same lines to a file, one a line, in order', () => {
      const file = path.join(dir, 'sub', 'trades.jsonl');
      const result = writeRecording(file, { count: 250, scenario });
      expect(readFileSync(file, 'utf8')).toBe(`${lines.slice(0, 250).join('\n')}\n`);
      expect(result.trades).toBe(250);
      expect(result.first_trade).toBe(trades[0]!.timestamp);
      expect(result.last_trade).toBe(trades[249]!.timestamp);
    });
  });
});
