/**
 * Ingest against the simulator's fault script: dropped connections, Binance's serverShutdown, a silent
 * Coinbase feed, malformed frames. Whatever happens, nothing is emitted twice, every emitted trade is
 * one the market printed, and what was missed is counted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { binanceFeed } from '../../src/exchanges/binance/feed.js';
import { coinbaseFeed } from '../../src/exchanges/coinbase/feed.js';
import { runIngest } from '../../src/ingest/pipeline.js';
import { StdoutSink } from '../../src/ingest/stdout-sink.js';
import { parseScenario, startSimulator, type PrintedTrade, type SimulatorHandle } from '../../src/simulator/index.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { Capture, waitFor } from '../helpers/context.js';

const sims: SimulatorHandle[] = [];
afterEach(async () => Promise.all(sims.splice(0).map((s) => s.close())));

const key = (exchange: string, symbol: string, id: number | string) => `${exchange}:${symbol}:${id}`;

describe('ingest under faults', () => {
  it('reconnects through drops, a shutdown notice and silence; skips garbage; never duplicates; counts what it missed', async () => {
    const scenario = parseScenario({
      rate: 1000,
      totalTrades: 3000,
      waitForClients: true,
      coinbase: { heartbeatIntervalMs: 100 },
      symbols: [
        { symbol: 'BTC-USDT', startPrice: 65000 },
        { symbol: 'ETH-USDT', startPrice: 3200 },
      ],
      events: [
        { type: 'disconnect', exchange: 'binance', atTrade: 500 },
        { type: 'server_shutdown', atTrade: 1000, graceMs: 200 },
        { type: 'malformed', exchange: 'binance', count: 10, atTrade: 1500 },
        { type: 'malformed', exchange: 'coinbase', count: 10, atTrade: 1600 },
        { type: 'silence', exchange: 'coinbase', durationSeconds: 1, atTrade: 2000 },
        { type: 'disconnect', atTrade: 2500 },
      ],
    });
    const sim = await startSimulator({ scenario, seed: 3 });
    sims.push(sim);
    const printed = new Map<string, PrintedTrade>(sim.initialTrades.map((t) => [key(t.exchange, t.symbol, t.tradeId), t]));
    sim.onTrade((t) => printed.set(key(t.exchange, t.symbol, t.tradeId), t));

    const out = new Capture();
    const abort = new AbortController();
    const symbols = ['BTC-USDT', 'ETH-USDT'];
    const run = runIngest(
      {
        feeds: [
          binanceFeed({ baseUrl: sim.binanceUrl, symbols }),
          // Heartbeats every 100 ms in this scenario: 400 ms of silence means the connection is dead.
          coinbaseFeed({ url: sim.coinbaseUrl, symbols, staleAfterMs: 400 }),
        ],
        statsIntervalMs: 0,
        shutdownTimeoutMs: 2_000,
        engine: { backoff: { baseMs: 20, capMs: 100 }, watchdogIntervalMs: 50 },
      },
      new StdoutSink(out),
      { signal: abort.signal },
    );
    await sim.done;
    // Let the last frames and reconnects land (nothing new for a second), then stop as an operator would.
    let seen = -1;
    let since = Date.now();
    await waitFor(
      () => {
        const now = out.lines().length;
        if (now !== seen) [seen, since] = [now, Date.now()];
        return Date.now() - since > 1_000;
      },
      15_000,
      'the output to settle',
    );
    abort.abort();
    const { summary } = await run;

    const trades = out.lines().map((l) => JSON.parse(l) as UnifiedTrade);
    const ids = trades.map((t) => t.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const t of trades) {
      const p = printed.get(t.event_id);
      expect(p, `${t.event_id} was never printed`).toBeDefined();
      expect(t.price).toBe(Number(p!.price));
      expect(t.side).toBe(p!.takerSide);
    }
    expect(summary.received).toBe(trades.length);

    const stats = sim.stats();
    expect(stats.eventsFired).toBe(6);
    // Garbage is either malformed (bad JSON, missing or mistyped fields) or unexpected (an event type
    // nobody subscribed to): one in five of the simulator's kinds is the latter.
    expect(stats.malformedSent).toBe(20);
    expect(summary.malformed_frames + summary.unexpected_frames).toBe(20);
    expect(summary.unexpected_frames).toBe(4);
    // Three drops for Binance (disconnect, shutdown, disconnect), two for Coinbase (silence, disconnect).
    expect(summary.exchanges.binance!.reconnects).toBeGreaterThanOrEqual(3);
    expect(summary.exchanges.coinbase!.reconnects).toBeGreaterThanOrEqual(2);

    // What was missed, worked out from the printed ids: those between the first and last id we got
    // per (exchange, symbol) must all be counted as missing; nothing beyond what was printed can be.
    let missedInside = 0;
    const printedIds = new Map<string, number[]>();
    for (const p of printed.values()) {
      const k = `${p.exchange}:${p.symbol}`;
      printedIds.set(k, [...(printedIds.get(k) ?? []), p.tradeId]);
    }
    for (const [k, list] of printedIds) {
      const got = new Set(trades.filter((t) => `${t.exchange}:${t.symbol}` === k).map((t) => Number(t.trade_id)));
      const lo = Math.min(...got);
      const hi = Math.max(...got);
      missedInside += list.filter((id) => id > lo && id < hi && !got.has(id)).length;
    }
    expect(missedInside).toBeGreaterThan(0);
    expect(summary.missing_trades).toBeGreaterThanOrEqual(missedInside);
    expect(summary.missing_trades).toBeLessThanOrEqual(printed.size - trades.length);
    expect(summary.exchanges.binance!.gaps).toBeGreaterThan(0);
    expect(summary.exchanges.coinbase!.gaps).toBeGreaterThan(0);
  });
});
