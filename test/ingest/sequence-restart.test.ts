/**
 * The market simulator stopped and started again on the same port under a running ingest, with the same
 * seed: its trade ids start over from where the first run started, a little below where it ended. Those
 * are new trades, not duplicates: every one is emitted, and each restart is logged and counted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { binanceFeed } from '../../src/exchanges/binance/feed.js';
import { coinbaseFeed } from '../../src/exchanges/coinbase/feed.js';
import { runIngest } from '../../src/ingest/pipeline.js';
import { StdoutSink } from '../../src/ingest/stdout-sink.js';
import { parseScenario, startSimulator, type PrintedTrade, type SimulatorHandle } from '../../src/simulator/index.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { Capture, captureLogger, waitFor } from '../helpers/context.js';

const sims: SimulatorHandle[] = [];
afterEach(async () => Promise.all(sims.splice(0).map((s) => s.close())));

const SYMBOLS = ['BTC-USDT', 'ETH-USDT'];
const market = (totalTrades: number) =>
  parseScenario({
    symbols: [
      { symbol: 'BTC-USDT', startPrice: 65000 },
      { symbol: 'ETH-USDT', startPrice: 3200 },
    ],
    rate: 1000,
    totalTrades,
    waitForClients: true,
  });

/** What the ingester receives from a simulator run: Coinbase's last_match (the initial trade) first, then every print. */
async function run(totalTrades: number, port = 0): Promise<{ sim: SimulatorHandle; printed: PrintedTrade[] }> {
  const sim = await startSimulator({ scenario: market(totalTrades), seed: 7, port });
  sims.push(sim);
  const printed = sim.initialTrades.filter((t) => t.exchange === 'coinbase');
  sim.onTrade((t) => printed.push(t));
  return { sim, printed };
}

/** A trade by its id and its time: after a restart, ids repeat and times tell the trades apart. */
const printedKey = (p: PrintedTrade) =>
  `${p.exchange}:${p.symbol}:${p.tradeId}@${p.exchange === 'binance' ? new Date(p.timeMs).toISOString() : p.timeIso}`;
const emittedKey = (t: UnifiedTrade) => `${t.event_id}@${t.timestamp}`;

describe('a simulator restarted under a running ingest', () => {
  it('emits the restarted trades instead of dropping them as duplicates, and logs and counts each restart', async () => {
    const first = await run(2_000);
    const out = new Capture();
    const abort = new AbortController();
    const { logger, records } = captureLogger('info');
    const ingest = runIngest(
      {
        feeds: [
          binanceFeed({ baseUrl: first.sim.binanceUrl, symbols: SYMBOLS }),
          coinbaseFeed({ url: first.sim.coinbaseUrl, symbols: SYMBOLS }),
        ],
        statsIntervalMs: 0,
        shutdownTimeoutMs: 2_000,
        engine: { backoff: { baseMs: 20, capMs: 200 } },
      },
      new StdoutSink(out),
      { signal: abort.signal, logger },
    );
    await first.sim.done;
    await waitFor(() => out.lines().length === first.printed.length, 15_000, 'every trade of the first run');
    await first.sim.close();

    const second = await run(1_000, first.sim.port);
    await second.sim.done;
    const total = first.printed.length + second.printed.length;
    await waitFor(() => out.lines().length >= total, 15_000, 'every trade of the restarted simulator');
    abort.abort();
    const { summary } = await ingest;

    // The same seed: each stream's ids start over and stay below where the first run ended.
    const lastOf = (prints: PrintedTrade[], exchange: string, symbol: string, pick: (ids: number[]) => number) =>
      pick(prints.filter((p) => p.exchange === exchange && p.symbol === symbol).map((p) => p.tradeId));
    for (const exchange of ['binance', 'coinbase']) {
      for (const symbol of SYMBOLS) {
        expect(lastOf(second.printed, exchange, symbol, (ids) => Math.max(...ids))).toBeLessThan(
          lastOf(first.printed, exchange, symbol, (ids) => Math.max(...ids)),
        );
      }
    }

    const emitted = out.lines().map((l) => JSON.parse(l) as UnifiedTrade);
    expect(emitted.map(emittedKey).sort()).toEqual([...first.printed, ...second.printed].map(printedKey).sort());
    expect(summary.received).toBe(total);
    expect(summary.sequence_restarts).toBe(4);
    expect(summary.exchanges.binance?.sequence_restarts).toBe(2);
    expect(summary.exchanges.coinbase?.sequence_restarts).toBe(2);

    // Logged once per stream, with the old and the new id; and said plainly that event_ids may repeat.
    const warnings = records().filter((r) => r.level === 'warn' && r.msg.includes('restarted its sequence'));
    expect(
      warnings
        .map((w) => ({ exchange: w.exchange, symbol: w.symbol, last_id: w.last_id, new_id: w.new_id }))
        .sort((a, b) => `${String(a.exchange)}${String(a.symbol)}`.localeCompare(`${String(b.exchange)}${String(b.symbol)}`)),
    ).toEqual(
      ['binance', 'coinbase'].flatMap((exchange) =>
        SYMBOLS.map((symbol) => ({
          exchange,
          symbol,
          last_id: lastOf(first.printed, exchange, symbol, (ids) => Math.max(...ids)),
          // The first trade the ingester sees from the restarted simulator: Coinbase's last_match, Binance's first print.
          new_id: lastOf(second.printed, exchange, symbol, (ids) => Math.min(...ids)),
        })),
      ),
    );
    for (const w of warnings)
      expect(w.msg).toContain(
        'their event_ids repeat earlier ones, and downstream a repeated event_id within the dedupe window (the watermark) is taken for the earlier trade',
      );
  });
});
