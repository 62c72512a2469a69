import { afterEach, describe, expect, it } from 'vitest';
import { FeedConnection } from '../../src/exchanges/engine.js';
import { binanceFeed } from '../../src/exchanges/binance/feed.js';
import { coinbaseFeed } from '../../src/exchanges/coinbase/feed.js';
import { freePort } from '../../src/local/processes.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { captureLogger, waitFor } from '../helpers.js';
import { closeServers, server } from '../ws-server.js';

const FAST = { backoff: { baseMs: 10, capMs: 40 }, watchdogIntervalMs: 20, closeGraceMs: 200, gapSettleMs: 50, overlapMs: 100 };

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
    await waitFor(() => got.length >= 10 && engine.stats().gaps === 1, 5_000, 'ten trades and the settled gap');
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

  it('keeps the old connection through the overlap when the new one is ahead, so its last trades still count', async () => {
    const srv = await server((ws, n, s) => {
      if (n === 1) {
        for (let id = 1; id <= 5; id++) ws.send(binanceTrade(id));
        ws.send('{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1714564800000}}');
        return;
      }
      // The new connection starts at 8; 6 and 7 are still on their way over the old one.
      for (let id = 8; id <= 12; id++) ws.send(binanceTrade(id));
      const [first] = s.open().filter((c) => c !== ws);
      setTimeout(() => {
        first?.send(binanceTrade(6));
        first?.send(binanceTrade(7));
      }, 30);
    });
    const got: number[] = [];
    const { logger, records } = captureLogger();
    // The overlap and the gap settle time as deployed (2 s each): the old connection's 6 and 7 come 30 ms after
    // the switch, and a busy machine can delay them past FAST's 50-100 ms, which would test the machine.
    const engine = track(new FeedConnection(binanceFeed({ baseUrl: srv.url, symbols: ['BTC-USDT'] }), { onTrade: (t) => got.push(Number(t.trade_id)) }, { ...FAST, overlapMs: 2_000, gapSettleMs: 2_000, logger }));
    engine.start();
    await waitFor(() => got.length >= 12, 5_000, 'twelve trades');
    await new Promise((r) => setTimeout(r, 200)); // past the settle time
    expect([...got].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(engine.stats()).toMatchObject({ gaps: 0, missingTrades: 0 });
    expect(records().filter((r) => r.msg === 'trade-id gap: trades missed')).toEqual([]);
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

  it('does not reset the backoff for a server that drops every connection right after its first message', async () => {
    const srv = await server((ws) => {
      ws.send(binanceTrade(srv.connections));
      ws.close();
    });
    const { logger, records } = captureLogger('info');
    const engine = track(
      new FeedConnection(binanceFeed({ baseUrl: srv.url, symbols: ['BTC-USDT'] }), { onTrade: () => {} }, { backoff: { baseMs: 20, capMs: 1_000 }, random: () => 1, logger }),
    );
    engine.start();
    await waitFor(() => records().filter((r) => r.msg === 'reconnecting').length >= 4, 5_000, 'four reconnects');
    expect(records().filter((r) => r.msg === 'reconnecting').slice(0, 4).map((r) => r.in_ms)).toEqual([20, 40, 80, 160]);
  });

  it('stops with one clear error when Coinbase refuses the subscription, without reconnecting', async () => {
    const srv = await server((ws) =>
      ws.on('message', () => ws.send('{"type":"error","message":"Failed to subscribe","reason":"BNB-USDT is not a valid product"}')),
    );
    const errors: string[] = [];
    const engine = track(
      new FeedConnection(coinbaseFeed({ url: srv.url, symbols: ['BNB-USDT'] }), { onTrade: () => {}, onFatal: (e) => errors.push(e.line()) }, FAST),
    );
    engine.start();
    await waitFor(() => errors.length === 1, 5_000, 'the fatal error');
    await new Promise((r) => setTimeout(r, 200));
    expect(errors).toEqual([
      'coattail: Coinbase refused the subscription: Failed to subscribe: BNB-USDT is not a valid product. Drop the symbols it does not list from --symbols, or leave the exchange out of --exchanges',
    ]);
    expect(srv.connections).toBe(1);
  });

  it('gives up on a refused upgrade (HTTP 451) but waits out a 429 with Retry-After', async () => {
    const { WebSocketServer } = await import('ws');
    let attempts: number[] = [];
    const answer = { status: 451, headers: {} as Record<string, string> };
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      verifyClient: (_info, cb) => {
        attempts.push(Date.now());
        cb(false, answer.status, 'refused', answer.headers);
      },
    });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const port = (wss.address() as { port: number }).port;
    try {
      const errors: string[] = [];
      const a = track(new FeedConnection(binanceFeed({ baseUrl: `ws://127.0.0.1:${port}`, symbols: ['BTC-USDT'] }), { onTrade: () => {}, onFatal: (e) => errors.push(e.line()) }, FAST));
      a.start();
      await waitFor(() => errors.length === 1, 5_000, 'the fatal error');
      expect(errors[0]).toBe(
        'coattail: Binance refused the WebSocket connection: HTTP 451: Binance refuses connections from this location. Check --binance-url, or leave binance out of --exchanges',
      );
      await new Promise((r) => setTimeout(r, 100));
      expect(attempts).toHaveLength(1);

      attempts = [];
      answer.status = 429;
      answer.headers = { 'Retry-After': '1' };
      const b = track(new FeedConnection(binanceFeed({ baseUrl: `ws://127.0.0.1:${port}`, symbols: ['BTC-USDT'] }), { onTrade: () => {} }, FAST));
      b.start();
      await waitFor(() => attempts.length >= 2, 5_000, 'a second attempt');
      expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(950);
    } finally {
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });

  it('a mapper that throws costs one frame, not the process', async () => {
    const srv = await server((ws) => {
      ws.send('boom');
      ws.send(binanceTrade(1));
    });
    const feed = binanceFeed({ baseUrl: srv.url, symbols: ['BTC-USDT'] });
    const map = feed.map;
    const got: UnifiedTrade[] = [];
    const engine = track(
      new FeedConnection({ ...feed, map: (text, at) => (text === 'boom' ? (() => { throw new RangeError('Invalid time value'); })() : map(text, at)) }, { onTrade: (t) => got.push(t) }, FAST),
    );
    engine.start();
    await waitFor(() => got.length === 1, 5_000, 'the trade after the bad frame');
    expect(engine.stats()).toMatchObject({ rejected: 1, trades: 1 });
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
