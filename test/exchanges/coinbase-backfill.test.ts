/**
 * Coinbase gap backfill against a fake Exchange feed (real WebSocket, ids skipped on purpose) and a fake
 * `/products/{id}/trades` (newest first, `after` cursor, CB-AFTER): a gap of 2497 trades is read in three
 * pages from `after=to+1` down, after a 429 without Retry-After (a second's wait). Expected trades are written by hand.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coinbaseFeed } from '../../src/exchanges/coinbase/feed.js';
import { coinbaseHistory } from '../../src/exchanges/coinbase/rest.js';
import { runIngest } from '../../src/ingest/pipeline.js';
import { StdoutSink } from '../../src/ingest/stdout-sink.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { Capture, waitFor } from '../helpers/context.js';
import { closeServers, server } from '../helpers/ws-server.js';

/** Trade id's fields: maker side alternates; time 2026-01-01T00:00:00 + id µs. */
const row = (id: number) => ({
  time: `2026-01-01T00:00:00.${String(id).padStart(6, '0')}Z`,
  trade_id: id,
  price: '2000.01',
  size: '0.50000000',
  side: id % 2 === 0 ? 'sell' : 'buy',
});
const match = (id: number): string =>
  JSON.stringify({ type: 'match', sequence: id * 3, maker_order_id: 'm', taker_order_id: 't', product_id: 'ETH-USD', ...row(id) });

let rest: http.Server | undefined;
afterEach(async () => {
  await closeServers();
  await new Promise((r) => (rest ? rest.close(r) : r(undefined)));
});

describe('Coinbase gap backfill', () => {
  it('pages older with the after cursor, waits out a 429, and emits the taker side', async () => {
    const hits: string[] = [];
    const at: number[] = [];
    const last = 2500;
    rest = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      hits.push(`${url.pathname}${url.search}`);
      at.push(Date.now());
      if (hits.length === 1) {
        res.writeHead(429, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ message: 'Public rate limit exceeded' }));
      }
      const after = Number(url.searchParams.get('after') ?? last + 1);
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      const rows = [];
      for (let id = Math.min(after - 1, last); id >= 1 && rows.length < limit; id--) rows.push(row(id));
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(rows.length ? { 'CB-BEFORE': String(rows[0]!.trade_id), 'CB-AFTER': String(rows.at(-1)!.trade_id) } : {}),
      });
      res.end(JSON.stringify(rows));
    });
    await new Promise<void>((r) => rest!.listen(0, '127.0.0.1', r));
    const restUrl = `http://127.0.0.1:${(rest.address() as AddressInfo).port}`;
    const ws = await server((conn) => {
      for (const id of [1, 2, last]) conn.send(match(id));
    });
    const out = new Capture();
    const abort = new AbortController();
    const done = runIngest(
      {
        feeds: [
          {
            ...coinbaseFeed({ url: ws.url, symbols: ['ETH-USD'] }),
            history: coinbaseHistory({ restUrl }),
          },
        ],
        statsIntervalMs: 0,
        shutdownTimeoutMs: 2_000,
        engine: { gapSettleMs: 100, watchdogIntervalMs: 20 },
      },
      new StdoutSink(out),
      { signal: abort.signal },
    );
    await waitFor(() => out.lines().length >= last, 15_000, `${last} trades`);
    abort.abort();
    const { summary } = await done;
    const trades = out.lines().map((l) => JSON.parse(l) as UnifiedTrade);
    expect(trades.map((t) => Number(t.trade_id)).sort((a, b) => a - b)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(hits).toEqual([
      '/products/ETH-USD/trades?after=2500&limit=1000',
      '/products/ETH-USD/trades?after=2500&limit=1000',
      '/products/ETH-USD/trades?after=1500&limit=1000',
      '/products/ETH-USD/trades?after=500&limit=497',
    ]);
    // Coinbase's 429 has no Retry-After: a second's wait.
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(990);
    // id 7 is odd: its maker bought, so the taker sold; 2000.01 × 0.5 = 1000.005.
    expect(trades.find((t) => t.trade_id === '7')).toMatchObject({
      event_id: 'coinbase:ETH-USD:7',
      side: 'sell',
      price: 2000.01,
      quantity: 0.5,
      quote_volume: 1000.005,
      timestamp: '2026-01-01T00:00:00.000007Z',
    });
    expect(trades.find((t) => t.trade_id === '8')!.side).toBe('buy');
    expect(summary).toMatchObject({ gaps: 1, backfilled: last - 3, missing_trades: 0 });
  });
});
