/**
 * Ingest across the simulator's forced disconnects, a shutdown notice and silences, with the gaps
 * backfilled from the simulator's REST side: every trade the market printed is emitted exactly once,
 * and each one equals what the ground truth (the simulator's onTrade) says it was — id, price, size,
 * exact quote volume, taker side and time in the feed's precision.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { binanceFeed } from '../../src/exchanges/binance/feed.js';
import { binanceHistory } from '../../src/exchanges/binance/rest.js';
import { coinbaseFeed } from '../../src/exchanges/coinbase/feed.js';
import { coinbaseHistory } from '../../src/exchanges/coinbase/rest.js';
import { runIngest, type IngestSummary } from '../../src/ingest/pipeline.js';
import { StdoutSink } from '../../src/ingest/stdout-sink.js';
import { parseScenario, startSimulator, type PrintedTrade, type SimulatorHandle } from '../../src/simulator/index.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { Capture, captureLogger, waitFor } from '../helpers/context.js';
import { exactProduct } from '../helpers/simulator.js';

const sims: SimulatorHandle[] = [];
afterEach(async () => Promise.all(sims.splice(0).map((s) => s.close())));

const SYMBOLS = ['BTC-USDT', 'ETH-USDT'];

/** The unified trade a printed trade must become, worked out from the ground truth alone. */
function expected(p: PrintedTrade, binanceMicros: boolean): Omit<UnifiedTrade, 'ingested_at'> {
  const { numerator, scale } = exactProduct(p.price, p.size);
  const s = numerator.toString().padStart(scale + 1, '0');
  const quoteVolume = Number(`${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`);
  return {
    schema_version: 1,
    event_id: `${p.exchange}:${p.symbol}:${p.tradeId}`,
    exchange: p.exchange,
    symbol: p.symbol,
    trade_id: String(p.tradeId),
    price: Number(p.price),
    quantity: Number(p.size),
    quote_volume: quoteVolume,
    side: p.takerSide,
    // Coinbase times carry µs; Binance's are ms unless asked for µs.
    timestamp: p.exchange === 'coinbase' || binanceMicros ? p.timeIso : new Date(p.timeMs).toISOString(),
  };
}

async function ingestThroughFaults(
  binanceMicros: boolean,
): Promise<{ trades: UnifiedTrade[]; printed: PrintedTrade[]; summary: IngestSummary }> {
  const scenario = parseScenario({
    rate: 800,
    totalTrades: 2400,
    waitForClients: true,
    coinbase: { heartbeatIntervalMs: 100 },
    symbols: [
      { symbol: 'BTC-USDT', startPrice: 65000 },
      { symbol: 'ETH-USDT', startPrice: 3200 },
    ],
    events: [
      { type: 'disconnect', exchange: 'binance', atTrade: 300, downSeconds: 0.3 },
      { type: 'silence', exchange: 'binance', durationSeconds: 0.4, atTrade: 700 },
      { type: 'server_shutdown', atTrade: 1000, graceMs: 100 },
      { type: 'silence', exchange: 'coinbase', durationSeconds: 0.8, atTrade: 1300 },
      { type: 'disconnect', atTrade: 1700, downSeconds: 0.2 },
    ],
  });
  const sim = await startSimulator({ scenario, seed: 7 });
  sims.push(sim);
  // Binance's pre-session trade is never sent; Coinbase's is (last_match): the ingest must emit those too.
  const printed: PrintedTrade[] = sim.initialTrades.filter((t) => t.exchange === 'coinbase');
  sim.onTrade((t) => printed.push(t));

  const out = new Capture();
  const abort = new AbortController();
  const { logger } = captureLogger('info');
  const run = runIngest(
    {
      feeds: [
        {
          ...binanceFeed({ baseUrl: sim.binanceUrl, symbols: SYMBOLS, timeUnit: binanceMicros ? 'us' : 'ms' }),
          history: binanceHistory({ restUrl: sim.binanceRestUrl, timeUnit: binanceMicros ? 'us' : 'ms' }),
        },
        {
          ...coinbaseFeed({ url: sim.coinbaseUrl, symbols: SYMBOLS, staleAfterMs: 400 }),
          history: coinbaseHistory({ restUrl: sim.coinbaseRestUrl }),
        },
      ],
      statsIntervalMs: 0,
      shutdownTimeoutMs: 5_000,
      engine: { backoff: { baseMs: 20, capMs: 100 }, watchdogIntervalMs: 50, gapSettleMs: 300 },
    },
    new StdoutSink(out),
    { signal: abort.signal, logger },
  );
  await sim.done;
  // Every printed trade is out (live or backfilled) — or, failing that, the test says how many are not.
  await waitFor(() => out.lines().length >= printed.length, 20_000, `all ${printed.length} printed trades to be emitted`);
  abort.abort();
  const { summary } = await run;
  return { trades: out.lines().map((l) => JSON.parse(l) as UnifiedTrade), printed, summary };
}

function checkExactlyOnce(trades: UnifiedTrade[], printed: PrintedTrade[], binanceMicros: boolean): void {
  const ids = trades.map((t) => t.event_id);
  expect(new Set(ids).size).toBe(ids.length);
  const got = new Map(trades.map(({ ingested_at: _ignored, ...t }) => [t.event_id, t]));
  const want = new Map(printed.map((p) => [`${p.exchange}:${p.symbol}:${p.tradeId}`, expected(p, binanceMicros)]));
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [id, t] of got) expect(t, id).toEqual(want.get(id));
}

describe('gap backfill against the simulator', () => {
  it('emits every printed trade exactly once across disconnects, a shutdown and silences (Binance ms)', async () => {
    const { trades, printed, summary } = await ingestThroughFaults(false);
    checkExactlyOnce(trades, printed, false);
    expect(summary.gaps).toBeGreaterThan(0);
    expect(summary.exchanges.binance!.backfilled).toBeGreaterThan(0);
    expect(summary.exchanges.coinbase!.backfilled).toBeGreaterThan(0);
    expect(summary.backfilled).toBe(summary.exchanges.binance!.backfilled + summary.exchanges.coinbase!.backfilled);
    expect(summary.missing_trades).toBe(0);
    expect(summary.received).toBe(printed.length);
  });

  it('gives a backfilled Binance trade the live feed’s µs precision', async () => {
    const { trades, printed, summary } = await ingestThroughFaults(true);
    checkExactlyOnce(trades, printed, true);
    expect(summary.exchanges.binance!.backfilled).toBeGreaterThan(0);
    expect(summary.missing_trades).toBe(0);
  });
});
