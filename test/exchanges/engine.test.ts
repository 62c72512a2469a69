import { afterEach, describe, expect, it } from 'vitest';
import { FeedConnection } from '../../src/exchanges/engine.js';
import { binanceFeed } from '../../src/exchanges/binance/feed.js';
import { coinbaseFeed } from '../../src/exchanges/coinbase/feed.js';
import { freePort } from '../../src/local/processes.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { captureLogger, waitFor } from '../helpers.js';
import { closeServers, server } from '../ws-server.js';

const FAST = { backoff: { baseMs: 10, capMs: 40 }, watchdogIntervalMs: 20, closeGraceMs: 200 };

const engines: FeedConnection[] = [];

function track(e: FeedConnection): FeedConnection {
  engines.push(e);
  return e;
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
  await closeServers();
});

const match = (type: 'match' | 'last_match', id: number) =>
  JSON.stringify({
    type,
    trade_id: id,
    sequence: 1000 + id,
    maker_order_id: 'a',
    taker_order_id: 'b',
    time: '2024-05-01T12:00:00.123456Z',
    product_id: 'BTC-USDT',
    size: '0.5',
    price: '60000.10',
    side: 'sell',
  });

const binanceTrade = (id: number) =>
  JSON.stringify({ stream: 'btcusdt@trade', data: { e: 'trade', E: 1714564800000, s: 'BTCUSDT', t: id, p: '60000.00', q: '0.01', T: 1714564800000, m: false, M: true } });

describe('connection engine', () => {
  it('resubscribes after a drop, emits last_match once, and counts the missed trades as a gap', async () => {
    const subscribes: string[] = [];
    const srv = await server((ws, n) => {
      ws.on('message', (m) => {
        subscribes.push(m.toString());
        ws.send('{"type":"subscriptions","channels":[]}');
        if (n === 1) {
          ws.send(match('last_match', 100));
          for (let id = 101; id <= 105; id++) ws.send(match('match', id));
          setTimeout(() => ws.terminate(), 50);
        } else {
          // 106 printed while we were away; last_match is the newest trade, 107.
          ws.send(match('last_match', 107));
          for (let id = 108; id <= 110; id++) ws.send(match('match', id));
        }
      });
    });
    const got: UnifiedTrade[] = [];
    const { logger, records } = captureLogger();
    const feed = coinbaseFeed({ url: srv.url, symbols: ['BTC-USDT'] });
    const engine = track(new FeedConnection(feed, { onTrade: (t) => got.push(t) }, { ...FAST, logger }));
    engine.start();
    await waitFor(() => got.length >= 10, 5_000, 'ten trades');
    expect(got.map((t) => Number(t.trade_id))).toEqual([100, 101, 102, 103, 104, 105, 107, 108, 109, 110]);
    expect(subscribes).toHaveLength(2);
    expect(JSON.parse(subscribes[1]!)).toEqual({ type: 'subscribe', product_ids: ['BTC-USDT'], channels: ['matches', 'heartbeat'] });
    expect(engine.stats()).toMatchObject({ gaps: 1, missingTrades: 1, connects: 2 });
    const gap = records().find((r) => r.msg === 'trade-id gap: trades missed');
    expect(gap).toMatchObject({ symbol: 'BTC-USDT', from: 106, to: 106, missing: 1 });
  });

  it('does not emit a repeated last_match after a reconnect with nothing new', async () => {
    const srv = await server((ws, n) => {
      ws.on('message', () => {
        ws.send(match('last_match', 50));
        if (n === 1) setTimeout(() => ws.terminate(), 30);
      });
    });
    const got: UnifiedTrade[] = [];
    const engine = track(new FeedConnection(coinbaseFeed({ url: srv.url, symbols: ['BTC-USDT'] }), { onTrade: (t) => got.push(t) }, FAST));
    engine.start();
    await waitFor(() => srv.connections >= 2 && engine.stats().duplicates >= 1, 5_000, 'second connection');
    expect(got.map((t) => t.trade_id)).toEqual(['50']);
  });

  it('reconnects when the server goes silent, and pings keep a quiet connection alive', async () => {
    const silent = await server(() => {});
    const pinging = await server((ws) => {
      const timer = setInterval(() => ws.ping(), 40);
      ws.on('close', () => clearInterval(timer));
    });
    let pongs = 0;
    pinging.wss.on('connection', (ws) => ws.on('pong', () => (pongs += 1)));
    const a = track(new FeedConnection(binanceFeed({ baseUrl: silent.url, symbols: ['BTC-USDT'], staleAfterMs: 200 }), { onTrade: () => {} }, FAST));
    const b = track(new FeedConnection(binanceFeed({ baseUrl: pinging.url, symbols: ['BTC-USDT'], staleAfterMs: 200 }), { onTrade: () => {} }, FAST));
    a.start();
    b.start();
    await waitFor(() => silent.connections >= 2, 5_000, 'a reconnect to the silent server');
    await new Promise((r) => setTimeout(r, 600));
    expect(a.stats().staleDisconnects).toBeGreaterThanOrEqual(1);
    expect(pinging.connections).toBe(1);
    expect(b.stats().staleDisconnects).toBe(0);
    expect(pongs).toBeGreaterThan(5);
  });

  it('on serverShutdown opens the new connection before the old one closes, losing and repeating nothing', async () => {
    const srv = await server((ws, n, s) => {
      if (n === 1) {
        for (let id = 1; id <= 5; id++) ws.send(binanceTrade(id));
        ws.send('{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1714564800000}}');
        return;
      }
      // The second connection is up while the first still is: both carry 6–8, then the old one closes.
      const [first] = s.open().filter((c) => c !== ws);
      for (let id = 6; id <= 8; id++) first?.send(binanceTrade(id));
      for (let id = 6; id <= 12; id++) ws.send(binanceTrade(id));
      setTimeout(() => first?.close(1001, 'shutdown'), 50);
    });
    const got: UnifiedTrade[] = [];
    const engine = track(new FeedConnection(binanceFeed({ baseUrl: srv.url, symbols: ['BTC-USDT'] }), { onTrade: (t) => got.push(t) }, FAST));
    engine.start();
    await waitFor(() => got.length >= 12, 5_000, 'twelve trades');
    await new Promise((r) => setTimeout(r, 150));
    expect(got.map((t) => Number(t.trade_id)).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(srv.maxConcurrent).toBe(2);
    expect(engine.stats()).toMatchObject({ plannedReconnects: 1, gaps: 0, reconnects: 0 });
    expect(engine.stats().duplicates).toBeGreaterThanOrEqual(3);
  });

  it('replaces a connection that reaches its age limit without a gap', async () => {
    let nextId = 1;
    const srv = await server(() => {});
    const ticker = setInterval(() => {
      const frame = binanceTrade(nextId++);
      for (const c of srv.open()) c.send(frame);
    }, 10);
    try {
      const got: number[] = [];
      const feed = binanceFeed({ baseUrl: srv.url, symbols: ['BTC-USDT'], maxConnectionAgeMs: 250 });
      const engine = track(new FeedConnection(feed, { onTrade: (t) => got.push(Number(t.trade_id)) }, FAST));
      engine.start();
      await waitFor(() => srv.connections >= 4, 5_000, 'three planned reconnects');
      await new Promise((r) => setTimeout(r, 100));
      clearInterval(ticker);
      const first = got[0]!;
      expect(got).toEqual(Array.from({ length: got.length }, (_, i) => first + i));
      expect(engine.stats().gaps).toBe(0);
      expect(engine.stats().plannedReconnects).toBeGreaterThanOrEqual(3);
    } finally {
      clearInterval(ticker);
    }
  });

  it('backs off exponentially with full jitter up to the cap when nobody listens', async () => {
    const port = await freePort();
    const { logger, records } = captureLogger('info');
    // random() = 1 turns full jitter into its ceiling: base × 2^attempt, capped.
    const engine = track(
      new FeedConnection(binanceFeed({ baseUrl: `ws://127.0.0.1:${port}`, symbols: ['BTC-USDT'] }), { onTrade: () => {} }, {
        backoff: { baseMs: 20, capMs: 100 },
        random: () => 1,
        logger,
      }),
    );
    engine.start();
    await waitFor(() => records().filter((r) => r.msg === 'reconnecting').length >= 5, 5_000, 'five reconnect attempts');
    const delays = records()
      .filter((r) => r.msg === 'reconnecting')
      .slice(0, 5)
      .map((r) => r.in_ms);
    expect(delays).toEqual([20, 40, 80, 100, 100]);
  });

  it('counts malformed frames and keeps going', async () => {
    const srv = await server((ws) => {
      ws.send('{not json');
      ws.send('{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT"}}');
      ws.send(binanceTrade(1));
    });
    const got: UnifiedTrade[] = [];
    const engine = track(new FeedConnection(binanceFeed({ baseUrl: srv.url, symbols: ['BTC-USDT'] }), { onTrade: (t) => got.push(t) }, FAST));
    engine.start();
    await waitFor(() => got.length === 1, 5_000, 'the valid trade');
    expect(engine.stats()).toMatchObject({ rejected: 2, trades: 1, frames: 3 });
  });
});
