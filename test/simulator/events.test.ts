import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorEvent, type SimulatorHandle } from '../../src/simulator/server.js';
import type { PrintedTrade } from '../../src/simulator/types.js';
import { tempDir } from '../helpers/context.js';
import { closedAfterEach, BTC_ETH, PrintLog, productAtLeast, testScenario, TestClient } from '../helpers/simulator.js';

const { sims, clients } = closedAfterEach();

async function start(
  opts: Parameters<typeof startSimulator>[0],
): Promise<{ sim: SimulatorHandle; log: PrintLog; events: SimulatorEvent[] }> {
  const sim = await startSimulator(opts);
  sims.push(sim);
  const log = new PrintLog();
  const events: SimulatorEvent[] = [];
  sim.onTrade(log.add);
  sim.onEvent((e) => events.push(e));
  return { sim, log, events };
}

async function connect(url: string): Promise<TestClient> {
  const c = await TestClient.connect(url);
  clients.push(c);
  return c;
}

const subscribeAll = (c: TestClient, products = ['BTC-USDT', 'ETH-USDT']): void =>
  c.send({ type: 'subscribe', product_ids: products, channels: ['matches', 'heartbeat'] });
const sequence = (t: PrintedTrade): string => `${t.exchange} ${t.symbol} ${t.tradeId} ${t.price} ${t.size} ${t.takerSide}`;

/** A Binance trade frame or a Coinbase match that is complete and well typed, as an ingester would accept. */
function validTrade(text: string): { exchange: string; symbol: string; tradeId: number } | undefined {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null) return undefined;
  const o = m as Record<string, unknown>;
  const d = (typeof o.data === 'object' && o.data !== null ? o.data : o) as Record<string, unknown>;
  const dec = (v: unknown): boolean => typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) && Number(v) > 0;
  if (
    d.e === 'trade' &&
    typeof d.s === 'string' &&
    Number.isSafeInteger(d.t) &&
    dec(d.p) &&
    dec(d.q) &&
    Number.isSafeInteger(d.T) &&
    typeof d.m === 'boolean'
  ) {
    return { exchange: 'binance', symbol: d.s === 'BTCUSDT' ? 'BTC-USDT' : d.s === 'ETHUSDT' ? 'ETH-USDT' : d.s, tradeId: d.t as number };
  }
  if (
    (o.type === 'match' || o.type === 'last_match') &&
    Number.isSafeInteger(o.trade_id) &&
    dec(o.price) &&
    dec(o.size) &&
    (o.side === 'buy' || o.side === 'sell') &&
    typeof o.product_id === 'string' &&
    typeof o.time === 'string' &&
    !Number.isNaN(Date.parse(o.time))
  ) {
    return { exchange: 'coinbase', symbol: o.product_id, tradeId: o.trade_id as number };
  }
  return undefined;
}

describe('determinism', () => {
  it('prints the same sequence for the same seed, whatever the tick and whoever listens; another seed differs', async () => {
    const base = { rate: 2000, symbols: BTC_ETH, totalTrades: 300 };
    const alone = await start({ scenario: testScenario({ ...base, tickMs: 1 }), seed: 21 });
    const watched = await start({ scenario: testScenario({ ...base, tickMs: 40 }), seed: 21 });
    const b = await connect(`${watched.sim.binanceUrl}/stream?streams=btcusdt@trade/ethusdt@trade`);
    const c = await connect(watched.sim.coinbaseUrl);
    subscribeAll(c);
    const other = await start({ scenario: testScenario({ ...base, tickMs: 1 }), seed: 22 });
    await Promise.all([alone.sim.done, watched.sim.done, other.sim.done]);

    expect(alone.log.trades).toHaveLength(300);
    expect(watched.log.trades.map(sequence)).toEqual(alone.log.trades.map(sequence));
    expect(watched.sim.initialTrades.map(sequence)).toEqual(alone.sim.initialTrades.map(sequence));
    expect(other.log.trades.map(sequence)).not.toEqual(alone.log.trades.map(sequence));
    expect(b.frames.length + c.frames.length).toBeGreaterThan(0);
    // Times are wall-clock at printing, in order.
    const times = alone.log.trades.map((t) => t.timeIso);
    expect([...times].sort()).toEqual(times);
  });
});

describe('scenario events over the wire', () => {
  it('waitForClients: prints nothing until every exchange has clients for every symbol', async () => {
    const { sim, log } = await start({ scenario: testScenario({ symbols: BTC_ETH, waitForClients: true }) });
    const b = await connect(`${sim.binanceUrl}/stream?streams=btcusdt@trade/ethusdt@trade`);
    b.send({ method: 'LIST_SUBSCRIPTIONS', id: 1 });
    await b.next((m) => m.id === 1, 'LIST reply');
    const c = await connect(sim.coinbaseUrl);
    subscribeAll(c, ['BTC-USDT']); // ETH-USDT still missing on Coinbase
    await c.next((m) => m.type === 'last_match', 'last_match');
    expect(sim.stats()).toMatchObject({ generating: false, printed: 0 });
    expect(log.trades).toEqual([]);

    c.send({ type: 'subscribe', product_ids: ['ETH-USDT'], channels: ['matches'] });
    await sim.started;
    const binanceTrades = (): Array<Record<string, unknown>> =>
      b.messages.flatMap((m) => (m.data ? [m.data as Record<string, unknown>] : []));
    const firstTrade = (t: PrintedTrade): unknown =>
      t.exchange === 'binance'
        ? binanceTrades().find((d) => d.s === t.symbol.replace('-', ''))?.t
        : c.messages.find((m) => m.type === 'match' && m.product_id === t.symbol)?.trade_id;
    await b.until(
      () => sim.initialTrades.every((t) => t.exchange !== 'binance' || firstTrade(t) !== undefined),
      'binance trades of both symbols',
    );
    await c.until(
      () => sim.initialTrades.every((t) => t.exchange !== 'coinbase' || firstTrade(t) !== undefined),
      'coinbase matches of both products',
    );
    // Every client's first trade per stream is the one right after the initial trade: none missed.
    expect(sim.initialTrades).toHaveLength(4);
    for (const t of sim.initialTrades) expect(firstTrade(t), `${t.exchange} ${t.symbol}`).toBe(t.tradeId + 1);
  });

  it('whale: one trade whose price × size is at least the quote volume and within 0.01 %', async () => {
    const { sim, log, events } = await start({
      scenario: testScenario({
        symbols: BTC_ETH,
        waitForClients: true,
        maxNotional: 20_000,
        events: [
          { atTrade: 5, type: 'whale', exchange: 'binance', symbol: 'BTC-USDT', side: 'buy', quoteVolume: 150_000 },
          { atTrade: 12, type: 'whale', exchange: 'coinbase', symbol: 'ETH-USDT', side: 'sell', quoteVolume: 250_000 },
        ],
      }),
    });
    const b = await connect(`${sim.binanceUrl}/stream?streams=btcusdt@trade/ethusdt@trade`);
    const c = await connect(sim.coinbaseUrl);
    subscribeAll(c);
    await log.until(30);
    expect(events.map((e) => e.event.type)).toEqual(['whale', 'whale']);
    const big = log.trades.filter((t) => Number(t.price) * Number(t.size) > 20_000);
    expect(big.map((t) => [t.exchange, t.symbol, t.takerSide])).toEqual([
      ['binance', 'BTC-USDT', 'buy'],
      ['coinbase', 'ETH-USDT', 'sell'],
    ]);
    expect(log.trades.indexOf(big[0]!)).toBe(5); // the 6th trade: after 5 printed trades
    expect(log.trades.indexOf(big[1]!)).toBe(12); // after 12 printed trades, the first whale among them

    const bFrame = await b.next((m) => (m.data as Record<string, unknown>).t === big[0]!.tradeId, 'binance whale frame');
    const data = bFrame.data as { p: string; q: string; m: boolean };
    expect(productAtLeast(data.p, data.q, '150000')).toBe(true);
    expect(productAtLeast(data.p, data.q, '150015')).toBe(false); // 150000 × 1.0001
    expect(data.m).toBe(false); // the taker bought
    const cFrame = await c.next((m) => m.type === 'match' && m.trade_id === big[1]!.tradeId, 'coinbase whale match');
    expect(productAtLeast(cFrame.price as string, cFrame.size as string, '250000')).toBe(true);
    expect(productAtLeast(cFrame.price as string, cFrame.size as string, '250025')).toBe(false);
    expect(cFrame.side).toBe('buy'); // the maker bought: the taker sold
  });

  it('disconnect: terminates the sockets; trades keep printing, a reconnecting client sees the gap', async () => {
    const { sim, log } = await start({
      scenario: testScenario({ rate: 300, exchanges: ['binance'], waitForClients: true, events: [{ atTrade: 20, type: 'disconnect' }] }),
    });
    const c = await connect(`${sim.binanceUrl}/stream?streams=btcusdt@trade`);
    const closed = await c.closed;
    expect(closed.code).toBe(1006); // no close frame: the socket was cut
    const seen = c.messages.map((m) => (m.data as { t: number }).t);
    expect(seen.length).toBeLessThanOrEqual(20);
    // Trades keep printing while nobody listens; reconnect only after a few have.
    await log.until(25);
    const again = await connect(`${sim.binanceUrl}/stream?streams=btcusdt@trade`);
    await again.until(() => again.messages.length >= 3, 'trades after reconnecting');
    const firstAfter = (again.messages[0]!.data as { t: number }).t;
    expect(firstAfter).toBeGreaterThan(log.trades[24]!.tradeId); // trades 21 to 25 at least were missed
    expect(firstAfter - Math.max(...seen)).toBeGreaterThanOrEqual(6); // a gap the ingester must detect
    expect(log.find('binance', 'BTC-USDT', firstAfter)).toBeDefined();
  });

  it('disconnect with downSeconds: every socket cut, then connections refused with 503 until the time is up', async () => {
    const { sim, events } = await start({
      scenario: testScenario({
        rate: 300,
        exchanges: ['binance', 'coinbase'],
        waitForClients: true,
        events: [{ atTrade: 20, type: 'disconnect', downSeconds: 0.6 }],
      }),
    });
    let cutAt = 0;
    sim.onEvent(() => (cutAt = Date.now()));
    const b = await connect(`${sim.binanceUrl}/stream?streams=btcusdt@trade`);
    const c = await connect(sim.coinbaseUrl);
    subscribeAll(c, ['BTC-USDT']);
    expect((await b.closed).code).toBe(1006);
    expect((await c.closed).code).toBe(1006);
    expect(events).toHaveLength(1);
    // Straight after the cut: both endpoints refuse the upgrade with 503 and say why.
    const refusedB = await TestClient.connect(`${sim.binanceUrl}/stream?streams=btcusdt@trade`).then(
      () => 'connected',
      (e: Error) => e.message,
    );
    const refusedC = await TestClient.connect(sim.coinbaseUrl).then(
      () => 'connected',
      (e: Error) => e.message,
    );
    expect(Date.now() - cutAt).toBeLessThan(600); // still inside the window, or the refusals prove nothing
    expect(refusedB).toContain('503');
    expect(refusedC).toContain('503');
    // Once the time is up, both take connections again.
    await new Promise((r) => setTimeout(r, Math.max(0, cutAt + 650 - Date.now())));
    const again = await connect(`${sim.binanceUrl}/stream?streams=btcusdt@trade`);
    await again.until(() => again.messages.length >= 3, 'trades after the exchange came back');
    const cAgain = await connect(sim.coinbaseUrl);
    subscribeAll(cAgain, ['BTC-USDT']);
    await cAgain.next((m) => m.type === 'last_match', 'coinbase last_match after it came back');
  });

  it('silence: no trades, heartbeats or pings for the duration; the trades printed meanwhile are missed', async () => {
    const { sim, log, events } = await start({
      scenario: testScenario({
        rate: 200,
        exchanges: ['binance', 'coinbase'],
        waitForClients: true,
        binance: { pingIntervalMs: 30 },
        coinbase: { heartbeatIntervalMs: 30, pingIntervalMs: 30 },
        events: [{ atTrade: 20, type: 'silence', durationSeconds: 0.4 }],
      }),
    });
    let silenceAt = 0;
    sim.onEvent(() => (silenceAt = Date.now()));
    const b = await connect(`${sim.binanceUrl}/stream?streams=btcusdt@trade`);
    const c = await connect(sim.coinbaseUrl);
    subscribeAll(c, ['BTC-USDT']);
    // Wait until well after the silence, then look back.
    await log.until(20);
    await b.until(() => silenceAt > 0 && b.frames.some((f) => f.at > silenceAt + 450), 'binance frames after the silence', 5_000);
    await c.until(() => c.frames.some((f) => f.at > silenceAt + 450), 'coinbase frames after the silence', 5_000);
    expect(events).toHaveLength(1);

    // Margins at both ends: frames already in flight when the silence began, timer jitter at its end.
    const quiet = (times: number[]): number => times.filter((t) => t > silenceAt + 40 && t < silenceAt + 360).length;
    for (const client of [b, c]) {
      expect(quiet(client.frames.map((f) => f.at))).toBe(0);
      expect(quiet(client.pings)).toBe(0);
      expect(client.closedWith).toBeUndefined();
    }
    const during = log.trades.filter((t) => Date.parse(t.timeIso) > silenceAt + 40 && Date.parse(t.timeIso) < silenceAt + 360);
    expect(during.length).toBeGreaterThan(20); // ~200/s for 0.32 s kept printing
    const received = new Set([
      ...b.messages.map((m) => `binance ${(m.data as { t: number }).t}`),
      ...c.messages.filter((m) => m.type === 'match').map((m) => `coinbase ${m.trade_id as number}`),
    ]);
    for (const t of during) expect(received.has(`${t.exchange} ${t.tradeId}`)).toBe(false);
    // And the heartbeats resumed.
    expect(c.messages.filter((m) => m.type === 'heartbeat' && Date.parse(m.time as string) > silenceAt + 400).length).toBeGreaterThan(0);
  });

  it('malformed: garbage frames of every kind, none a valid trade; every valid frame is a printed trade', async () => {
    const { sim, log } = await start({
      scenario: testScenario({
        symbols: BTC_ETH,
        waitForClients: true,
        events: [
          { atTrade: 10, type: 'malformed', exchange: 'binance', count: 12 },
          { atTrade: 15, type: 'malformed', exchange: 'coinbase', count: 12 },
        ],
      }),
    });
    const b = await connect(`${sim.binanceUrl}/stream?streams=btcusdt@trade/ethusdt@trade`);
    const c = await connect(sim.coinbaseUrl);
    subscribeAll(c);
    await log.until(60);
    await b.until(() => b.frames.filter((f) => validTrade(f.text)).length >= 25, 'binance trades');
    await c.until(() => c.frames.filter((f) => validTrade(f.text)?.exchange === 'coinbase').length >= 25, 'coinbase trades');

    const garbage = (client: TestClient, expectedControl: (m: Record<string, unknown>) => boolean): string[] =>
      client.frames
        .filter((f) => !validTrade(f.text) && !(f.json && expectedControl(f.json as Record<string, unknown>)))
        .map((f) => f.text);
    const bGarbage = garbage(b, () => false);
    const cGarbage = garbage(c, (m) => m.type === 'subscriptions' || m.type === 'heartbeat');
    expect(bGarbage).toHaveLength(12);
    expect(cGarbage).toHaveLength(12);
    expect(sim.stats().malformedSent).toBe(24);
    for (const g of [bGarbage, cGarbage]) {
      const parses = g.filter((t) => {
        try {
          JSON.parse(t);
          return true;
        } catch {
          return false;
        }
      });
      expect(parses.length).toBeGreaterThan(0); // missing fields, wrong types, unknown events
      expect(parses.length).toBeLessThan(g.length); // invalid and truncated JSON
    }
    // Every frame that looks like a trade is one the market printed (last_match: an initial trade).
    const truth = new Set([...log.trades, ...sim.initialTrades].map((t) => `${t.exchange} ${t.symbol} ${t.tradeId}`));
    for (const f of [...b.frames, ...c.frames]) {
      const v = validTrade(f.text);
      if (v) expect(truth.has(`${v.exchange} ${v.symbol} ${v.tradeId}`), f.text).toBe(true);
    }
  });

  it('records every printed trade as NDJSON: the initial trades first, then the session', async () => {
    const file = path.join(tempDir('sim'), 'trades.jsonl');
    const { sim, log } = await start({ scenario: testScenario({ rate: 1000, symbols: BTC_ETH, totalTrades: 50 }), recordFile: file });
    await sim.done;
    await sim.close();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as PrintedTrade);
    expect(lines).toHaveLength(4 + 50);
    expect(lines).toEqual([...sim.initialTrades, ...log.trades]);
    expect(Object.keys(lines[0]!)).toEqual(['exchange', 'symbol', 'tradeId', 'price', 'size', 'takerSide', 'timeMs', 'timeIso']);
  });

  it('durationSeconds: done resolves after that long; the server still answers until close()', async () => {
    const { sim, log } = await start({ scenario: testScenario({ rate: 100, durationSeconds: 0.3, binance: { pingIntervalMs: 30 } }) });
    const startedAt = Date.now();
    await sim.done;
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(280);
    expect(log.trades).toHaveLength(30);
    expect(sim.stats()).toMatchObject({ finished: true, generating: false, printed: 30 });
    const c = await connect(`${sim.binanceUrl}/stream?streams=btcusdt@trade`);
    await c.until(() => c.pings.length >= 2, 'pings after the scenario ended');
    expect(c.messages).toEqual([]);
  });

  it('refuses a port in use with a clear error', async () => {
    const { sim } = await start({ scenario: testScenario() });
    await expect(startSimulator({ scenario: testScenario(), port: sim.port })).rejects.toMatchObject({
      name: 'CoattailError',
      what: `cannot listen on 127.0.0.1:${sim.port}`,
      why: 'the port is already in use',
    });
  });
});
