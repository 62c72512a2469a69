/**
 * The scenario's `history`: the market before the session, printed first and fast with past times,
 * over real WebSocket clients of both protocols.
 */
import { describe, expect, it } from 'vitest';
import { Market } from '../../src/simulator/market/generator.js';
import { parseScenario } from '../../src/simulator/scenario-loader.js';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/server.js';
import { closedAfterEach, PrintLog, testScenario, TestClient } from '../helpers/simulator.js';

const { sims, clients } = closedAfterEach();

const SOL = [{ symbol: 'SOL-USDT', startPrice: 150, sizeDecimals: 3 }];

describe('scenario history', () => {
  it('is refused without waitForClients, and below the flow rate', () => {
    const base = { name: 'h', rate: 50, symbols: SOL };
    expect(() => parseScenario({ ...base, history: { seconds: 60, rate: 1000 } })).toThrow(/history: needs "waitForClients": true/);
    expect(() => parseScenario({ ...base, waitForClients: true, history: { seconds: 60, rate: 40 } })).toThrow(
      /history\.rate: 40 is below the scenario's rate \(50\)/,
    );
    expect(() => parseScenario({ ...base, waitForClients: true, history: { seconds: 0, rate: 100 } })).toThrow(/history\.seconds/);
  });

  it('is seconds × rate trades, evenly spaced before 0, with ids running on into the session', () => {
    // 12 s at 50 trades/s: 600 trades at -12, -11.98, ..., -0.02 (worked out by hand).
    const market = new Market(testScenario({ rate: 50, symbols: SOL, waitForClients: true, history: { seconds: 12, rate: 1000 } }));
    const times = market.history.map((h) => h.seconds);
    expect(times).toHaveLength(600);
    expect(times[0]).toBe(-12);
    expect(times[599]).toBeCloseTo(-0.02, 9);
    for (let i = 1; i < times.length; i += 1) expect(times[i]! - times[i - 1]!).toBeCloseTo(0.02, 9);
    // Per stream: the initial trade, then the history, then the session, each id one more than the last.
    const session = market.advanceTo(1).flatMap((i) => (i.kind === 'trade' ? [i.trade] : []));
    expect(session).toHaveLength(50);
    for (const exchange of ['binance', 'coinbase'] as const) {
      const ids = [...market.initialTrades, ...market.history.map((h) => h.trade), ...session]
        .filter((t) => t.exchange === exchange)
        .map((t) => t.tradeId);
      expect(ids.length).toBeGreaterThan(100);
      ids.forEach((id, i) => expect(id).toBe(ids[0]! + i));
    }
    // The scripted events keep their session times: nothing fires during the history.
    expect(market.seconds).toBe(1);
  });

  it('prints the history to subscribed clients first, in the past, then opens the session after it', async () => {
    // 20 s of history at 50 trades/s = 1,000 trades, printed at 2,000 a second: half a second.
    const scenario = testScenario({ rate: 50, tickMs: 10, symbols: SOL, waitForClients: true, history: { seconds: 20, rate: 2_000 } });
    const sim: SimulatorHandle = await startSimulator({ scenario });
    sims.push(sim);
    const log = new PrintLog();
    sim.onTrade(log.add);
    const b = await TestClient.connect(`${sim.binanceUrl}/stream?streams=solusdt@trade`);
    clients.push(b);
    const c = await TestClient.connect(sim.coinbaseUrl);
    clients.push(c);
    c.send({ type: 'subscribe', product_ids: ['SOL-USDT'], channels: ['matches'] });
    const askedAt = Date.now();
    const openedAt = await sim.opened;
    expect(sim.stats().history).toEqual({ printed: 1_000, total: 1_000 });
    // At 2,000 a second the history takes 0.5 s; the session opens once the clock reaches its end.
    expect(openedAt - askedAt).toBeGreaterThanOrEqual(450);
    await log.until(1_020);

    const history = log.trades.slice(0, 1_000);
    const session = log.trades.slice(1_000);
    // The history ends where the session begins and reaches 20 s back.
    const first = history[0]!.timeMs;
    const last = history[999]!.timeMs;
    // The last history trade is at second -0.02: 20 ms before the open (times floored to ms).
    expect(openedAt - last).toBeGreaterThanOrEqual(19);
    expect(openedAt - last).toBeLessThanOrEqual(21);
    expect(last - first).toBeGreaterThanOrEqual(19_900);
    expect(last - first).toBeLessThanOrEqual(20_000);
    for (let i = 1; i < log.trades.length; i += 1) expect(log.trades[i]!.timeIso > log.trades[i - 1]!.timeIso).toBe(true);
    expect(session[0]!.timeMs).toBeGreaterThanOrEqual(openedAt - 1);

    // What the clients got: every history trade, with its own past time, and no trade before its time.
    await b.until(() => b.messages.filter((m) => m.data).length >= 510, 'binance history and session trades', 10_000);
    const binance = b.frames.flatMap((f) => {
      const d = (f.json as { data?: { t: number; T: number } } | undefined)?.data;
      return d ? [{ id: d.t, T: d.T, at: f.at }] : [];
    });
    const printedBinance = log.trades.filter((t) => t.exchange === 'binance');
    expect(binance.slice(0, 500).map((d) => d.id)).toEqual(printedBinance.slice(0, 500).map((t) => t.tradeId));
    expect(binance.slice(0, 500).map((d) => d.T)).toEqual(printedBinance.slice(0, 500).map((t) => t.timeMs));
    for (const d of binance) expect(d.T).toBeLessThanOrEqual(d.at);
    await c.until(() => c.messages.filter((m) => m.type === 'match').length >= 500, 'coinbase history', 10_000);
    const matches = c.messages.filter((m) => m.type === 'match').slice(0, 500);
    const printedCoinbase = log.trades.filter((t) => t.exchange === 'coinbase').slice(0, 500);
    expect(matches.map((m) => m.trade_id)).toEqual(printedCoinbase.map((t) => t.tradeId));
    expect(matches.map((m) => m.time)).toEqual(printedCoinbase.map((t) => t.timeIso));
    // Coinbase's last_match (the initial trade) happened before all of it.
    const lastMatch = c.messages.find((m) => m.type === 'last_match')!;
    expect(String(lastMatch.time) < printedCoinbase[0]!.timeIso).toBe(true);
    expect(lastMatch.trade_id).toBe(printedCoinbase[0]!.tradeId - 1);
  });
});
