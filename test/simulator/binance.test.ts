import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/server.js';
import { closedAfterEach, BTC_ETH, PrintLog, testScenario, TestClient } from '../helpers/simulator.js';

// Frames from EXCHANGES.md: a current `trade` event, and a combined-stream one (older, with b/a).
const SAMPLE_TRADE = JSON.parse(
  '{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}',
) as Record<string, unknown>;
const SAMPLE_COMBINED = JSON.parse(
  '{"stream":"bnbbtc@trade","data":{"e":"trade","E":1554076800945,"s":"BNBBTC","t":40756030,"p":"0.00426990","q":"33.82000000","b":133829535,"a":133829504,"T":1554076800940,"m":false,"M":true}}',
) as Record<string, unknown>;
const EIGHT_DECIMALS = /^\d+\.\d{8}$/;

const { sims, clients } = closedAfterEach();

async function sim(overrides: Parameters<typeof testScenario>[0] = {}): Promise<{ sim: SimulatorHandle; log: PrintLog }> {
  const handle = await startSimulator({ scenario: testScenario({ exchanges: ['binance'], waitForClients: true, ...overrides }) });
  sims.push(handle);
  const log = new PrintLog();
  handle.onTrade(log.add);
  return { sim: handle, log };
}

async function connect(url: string, opts?: { autoPong?: boolean }): Promise<TestClient> {
  const c = await TestClient.connect(url, opts);
  clients.push(c);
  return c;
}

const tradeData = (c: TestClient): Array<Record<string, unknown>> =>
  c.messages.map((m) => ('data' in m ? (m.data as Record<string, unknown>) : m)).filter((d) => d.e === 'trade');

describe('binance combined streams', () => {
  it("sends trade events shaped exactly like Binance's, agreeing with the printed trades", async () => {
    const { sim: s, log } = await sim({ symbols: BTC_ETH });
    const c = await connect(`${s.binanceUrl}/stream?streams=btcusdt@trade/ethusdt@trade`);
    await c.until(() => tradeData(c).length >= 40, '40 trades');

    const sampleKeys = Object.keys(SAMPLE_TRADE);
    for (const m of c.messages.slice(0, 40)) {
      expect(Object.keys(m)).toEqual(Object.keys(SAMPLE_COMBINED)); // stream, data
      const data = m.data as Record<string, unknown>;
      expect(m.stream).toBe(`${String(data.s).toLowerCase()}@trade`);
      expect(Object.keys(data)).toEqual(sampleKeys); // e,E,s,t,p,q,T,m,M — no b/a since 2024-06-18
      for (const k of sampleKeys) expect(typeof data[k], k).toBe(typeof SAMPLE_TRADE[k]);
      expect(data.p).toMatch(EIGHT_DECIMALS);
      expect(data.q).toMatch(EIGHT_DECIMALS);
      expect(Number.isInteger(data.t)).toBe(true);

      const symbol = data.s === 'BTCUSDT' ? 'BTC-USDT' : 'ETH-USDT';
      const printed = log.find('binance', symbol, data.t as number);
      expect(printed, `printed trade ${String(data.t)}`).toBeDefined();
      expect(Number(data.p)).toBe(Number(printed!.price));
      expect(Number(data.q)).toBe(Number(printed!.size));
      // m = buyer is maker, so the taker sold.
      expect(data.m).toBe(printed!.takerSide === 'sell');
      expect(data.T).toBe(printed!.timeMs);
      expect(data.E).toBeGreaterThanOrEqual(data.T as number);
      expect(String(data.T)).toHaveLength(13); // milliseconds by default
    }
    // Nothing printed before the client listened: its first trade per symbol follows the initial one.
    const initialId = (symbol: string): number => s.initialTrades.find((t) => t.exchange === 'binance' && t.symbol === symbol)!.tradeId;
    const firstSeen = (sym: string): unknown => tradeData(c).find((d) => d.s === sym)?.t;
    expect(firstSeen('BTCUSDT')).toBe(initialId('BTC-USDT') + 1);
    expect(firstSeen('ETHUSDT')).toBe(initialId('ETH-USDT') + 1);
  });

  it('gives microsecond times with timeUnit=MICROSECOND, and raw events on /ws/<stream>', async () => {
    const { sim: s, log } = await sim({ symbols: BTC_ETH });
    const micro = await connect(`${s.binanceUrl}/stream?streams=btcusdt@trade&timeUnit=MICROSECOND`);
    const raw = await connect(`${s.binanceUrl}/ws/ethusdt@trade`);
    await micro.until(() => tradeData(micro).length >= 5, 'µs trades');
    await raw.until(() => raw.messages.length >= 5, 'raw trades');
    for (const d of tradeData(micro)) {
      const printed = log.find('binance', 'BTC-USDT', d.t as number)!;
      expect(String(d.T)).toHaveLength(16);
      expect(Math.floor((d.T as number) / 1000)).toBe(printed.timeMs);
      // The ISO time's six fraction digits are the same microseconds.
      expect(printed.timeIso.slice(20, 26)).toBe(String(d.T).slice(-6));
    }
    for (const m of raw.messages) {
      expect(Object.keys(m)).toEqual(Object.keys(SAMPLE_TRADE));
      expect(m.s).toBe('ETHUSDT');
    }
  });

  it('answers SUBSCRIBE, LIST_SUBSCRIPTIONS, UNSUBSCRIBE and bad requests like Binance', async () => {
    const { sim: s } = await sim({ symbols: BTC_ETH, waitForClients: false });
    const c = await connect(`${s.binanceUrl}/stream`);
    c.send({ method: 'SUBSCRIBE', params: ['btcusdt@trade'], id: 1 });
    expect(await c.next((m) => m.id === 1, 'reply 1')).toEqual({ result: null, id: 1 });
    await c.until(() => tradeData(c).length >= 3, 'trades after SUBSCRIBE');
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 2 });
    expect(await c.next((m) => m.id === 2, 'reply 2')).toEqual({ result: ['btcusdt@trade'], id: 2 });
    c.send({ method: 'UNSUBSCRIBE', params: ['btcusdt@trade'], id: 3 });
    expect(await c.next((m) => m.id === 3, 'reply 3')).toEqual({ result: null, id: 3 });
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 4 });
    expect(await c.next((m) => m.id === 4, 'reply 4')).toEqual({ result: [], id: 4 });
    const seen = c.frames.length;
    c.send('{not json');
    const invalid = await c.next((m) => m.code === 3, 'invalid JSON error', seen);
    expect(invalid.msg).toMatch(/^Invalid JSON: /);
    c.send({ method: 'FLY', id: 5 });
    expect((await c.next((m) => m.id === 5, 'unknown method')).code).toBe(2);
    c.send({ method: 'SUBSCRIBE', params: ['btcusdt@trade'] });
    expect(await c.next((m) => m.code === 2 && m.id === undefined, 'missing id')).toEqual({
      code: 2,
      msg: 'Invalid request: request ID must be an unsigned integer',
    });
  });

  it('accepts a stream the market does not trade and sends nothing for it', async () => {
    const { sim: s, log } = await sim({ waitForClients: false });
    const quiet = await connect(`${s.binanceUrl}/stream?streams=dogeusdt@trade`);
    const loud = await connect(`${s.binanceUrl}/stream?streams=btcusdt@trade`);
    await loud.until(() => tradeData(loud).length >= 20, 'BTC trades');
    await log.until(20);
    expect(quiet.frames).toEqual([]);
    expect(quiet.closedWith).toBeUndefined();
  });

  it('refuses unknown paths and bad time units with HTTP errors', async () => {
    const { sim: s } = await sim();
    const status = (url: string): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('error', () => undefined); // the refusal itself is what the test observes
      });
    expect(await status(`${s.binanceUrl}/nowhere`)).toBe(404);
    expect(await status(`${s.binanceUrl}/stream?streams=btcusdt@trade&timeUnit=NANOSECOND`)).toBe(400);
  });
});

describe('binance connection lifecycle', () => {
  it('pings at pingIntervalMs and drops a client that does not pong within pongTimeoutMs', async () => {
    const { sim: s } = await sim({ binance: { pingIntervalMs: 50, pongTimeoutMs: 300 } });
    const good = await connect(`${s.binanceUrl}/stream?streams=btcusdt@trade`);
    const mute = await connect(`${s.binanceUrl}/stream?streams=btcusdt@trade`, { autoPong: false });
    await good.until(() => good.pings.length >= 5, '5 pings');
    // The mean gap, not each one: one late ping followed by a punctual one looks like a short gap.
    const meanGap = (good.pings[4]! - good.pings[0]!) / 4;
    expect(meanGap).toBeGreaterThanOrEqual(45);
    expect(meanGap).toBeLessThan(150);

    const closed = await mute.closed;
    expect(closed.at - mute.pings[0]!).toBeGreaterThanOrEqual(270);
    expect(closed.code).toBe(1006); // terminated, no close frame
    expect(s.stats().pongTimeouts).toBe(1);
    expect(good.closedWith).toBeUndefined();
  });

  it('sends serverShutdown (combined and raw), then closes after graceMs', async () => {
    const { sim: s } = await sim({ symbols: BTC_ETH, events: [{ atTrade: 10, type: 'server_shutdown', graceMs: 200 }] });
    const combined = await connect(`${s.binanceUrl}/stream?streams=btcusdt@trade`);
    const raw = await connect(`${s.binanceUrl}/ws/ethusdt@trade`);
    const [c, r] = await Promise.all([combined.closed, raw.closed]);
    const shutdownCombined = combined.frames.find((f) => (f.json as { stream?: string })?.stream === '!serverShutdown');
    const shutdownRaw = raw.frames.find((f) => (f.json as { e?: string })?.e === 'serverShutdown');
    expect(shutdownCombined).toBeDefined();
    expect(shutdownRaw).toBeDefined();
    expect(Object.keys(shutdownCombined!.json as object)).toEqual(['stream', 'data']);
    const data = (shutdownCombined!.json as { data: Record<string, unknown> }).data;
    expect(Object.keys(data)).toEqual(['e', 'E']);
    expect(data.e).toBe('serverShutdown');
    expect(Object.keys(shutdownRaw!.json as object)).toEqual(['e', 'E']);
    expect(typeof (shutdownRaw!.json as { E: unknown }).E).toBe('number');
    expect(c.at - shutdownCombined!.at).toBeGreaterThanOrEqual(180);
    expect(r.at - shutdownRaw!.at).toBeGreaterThanOrEqual(180);
    expect(c.code).toBe(1001);
  });

  it('closes a connection at maxConnectionAgeMs, and a new one is served', async () => {
    const { sim: s } = await sim({ binance: { maxConnectionAgeMs: 300 } });
    const opened = Date.now();
    const c = await connect(`${s.binanceUrl}/stream?streams=btcusdt@trade`);
    const closed = await c.closed;
    expect(closed.at - opened).toBeGreaterThanOrEqual(290);
    expect(closed.code).toBe(1000);
    expect(tradeData(c).length).toBeGreaterThan(0);
    const again = await connect(`${s.binanceUrl}/stream?streams=btcusdt@trade`);
    await again.until(() => tradeData(again).length > 0, 'trades on the new connection');
  });
});
