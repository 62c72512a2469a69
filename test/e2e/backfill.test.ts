/**
 * `coattail backfill` for real: the handler runs jobs-py's historical-loader in local Spark against a small
 * fake Binance REST API (node:http, Binance's paths, fields and headers), into a fresh Iceberg warehouse;
 * then `coattail reprocess --as-of <the snapshot the backfill printed>` reads the loaded day back.
 *
 * The fake holds trades with ids 100 + k, k = 0..599, one every 6 s from 2024-03-01T23:30:00Z. The range
 * [2024-03-01T23:45:00Z, 2024-03-02T00:15:00Z) holds k = 150 (23:45:00) .. 449 (00:14:54): 300 trades, ids
 * 250..549, in 30 one-minute windows. The command first checks BTC-USDT against the listing (exchangeInfo,
 * BTCUSDT only); then the job's one aggTrades probe (weight 4) finds id 250; one historicalTrades page
 * (weight 25) from 250 holds ids 250..699, fewer than 1000, so it is the last.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../src/commands/backfill.js';
import { reprocess } from '../../src/commands/reprocess.js';
import { testContext } from '../helpers/context.js';

const FIRST = Date.UTC(2024, 2, 1, 23, 30);
const trades = Array.from({ length: 600 }, (_, k) => ({
  id: 100 + k,
  price: `${60000 + (k % 9)}.50`,
  qty: `0.0${(k % 8) + 1}`,
  quoteQty: '0',
  time: FIRST + 6000 * k,
  isBuyerMaker: k % 2 === 0,
  isBestMatch: true,
}));

const tmp = mkdtempSync(path.join(os.tmpdir(), 'coattail-backfill-e2e-'));
const requests: string[] = [];
let server: Server;
let url = '';

beforeAll(async () => {
  let used = 0;
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push(`${u.pathname}?${u.searchParams.toString()}`);
    const q = (name: string): number => Number(u.searchParams.get(name));
    let body: unknown;
    if (u.pathname === '/api/v3/exchangeInfo') {
      // The listing the command checks --symbol against first: the one pair, as Binance writes it.
      body = {
        timezone: 'UTC',
        serverTime: FIRST,
        symbols: [{ symbol: 'BTCUSDT', status: 'TRADING', baseAsset: 'BTC', quoteAsset: 'USDT' }],
      };
    } else if (u.pathname === '/api/v3/aggTrades' && u.searchParams.get('symbol') === 'BTCUSDT') {
      used += 4;
      body = trades
        .filter((t) => t.time >= q('startTime') && t.time <= q('endTime'))
        .slice(0, q('limit'))
        .map((t) => ({ a: t.id, p: t.price, q: t.qty, f: t.id, l: t.id, T: t.time, m: t.isBuyerMaker, M: true }));
    } else if (u.pathname === '/api/v3/historicalTrades' && u.searchParams.get('symbol') === 'BTCUSDT') {
      used += 25;
      body = trades.filter((t) => t.id >= q('fromId')).slice(0, q('limit'));
    } else {
      res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"code":-1121,"msg":"Invalid symbol."}');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-MBX-USED-WEIGHT-1M': String(used) }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('coattail backfill → raw_trades → coattail reprocess --as-of', () => {
  it('loads the range once, and the reprocessing as of its snapshot sees every loaded trade', { timeout: 600_000 }, async () => {
    const warehouse = path.join(tmp, 'warehouse');
    const ctx = testContext({ cwd: tmp, env: { ...process.env } });
    const range = { symbol: 'BTC-USDT', start: '2024-03-01T23:45:00Z', end: '2024-03-02T00:15:00Z' };
    expect(await backfill({ ...range, binanceRestUrl: url, warehouse, json: true }, ctx)).toBe(0);
    const summary = JSON.parse(ctx.out.text()) as Record<string, unknown>;
    expect(summary).toMatchObject({
      exchange: 'binance',
      symbol: 'BTC-USDT',
      table: 'coattail.crypto_pulse.raw_trades',
      pages: 1,
      trades: 300,
      inserted: 300,
      already_present: 0,
      rejected: 0,
      first_trade_id: '250',
      last_trade_id: '549',
      rest: { requests: 2, weight_spent: 29, max_used_weight: 29 },
    });
    expect(requests).toEqual([
      '/api/v3/exchangeInfo?',
      `/api/v3/aggTrades?symbol=BTCUSDT&startTime=${Date.UTC(2024, 2, 1, 23, 45)}&endTime=${Date.UTC(2024, 2, 2, 0, 15) - 1}&limit=1`,
      '/api/v3/historicalTrades?symbol=BTCUSDT&fromId=250&limit=1000',
    ]);
    expect(ctx.err.text()).toContain('historical-loader: 300 binance BTC-USDT trades from 2024-03-01T23:45:00Z to 2024-03-02T00:15:00Z');

    const as = testContext({ cwd: tmp, env: { ...process.env } });
    expect(await reprocess({ asOf: String(summary.snapshot_id), warehouse, report: path.join(tmp, 'r.json'), json: true }, as)).toBe(0);
    const report = JSON.parse(as.out.text()) as Record<string, unknown>;
    expect(report).toMatchObject({ as_of: summary.snapshot_id, snapshot_id: summary.snapshot_id, trades: 300, windows: 30 });
  });
});
