/**
 * The simulator's REST trade endpoints against the exchanges' documented shapes: Binance
 * `historicalTrades` (oldest first, fromId/limit, µs with X-MBX-TIME-UNIT, X-MBX-USED-WEIGHT-1M) and
 * Coinbase `/products/{id}/trades` (newest first, after/before cursors, CB-BEFORE/CB-AFTER, maker side).
 * Expected rows are built from the simulator's ground truth (onTrade), not from the route code.
 */
import { describe, expect, it } from 'vitest';
import { PrintHistory } from '../../src/simulator/rest/history.js';
import { startSimulator, type PrintedTrade } from '../../src/simulator/index.js';
import type { Print } from '../../src/simulator/types.js';
import { BTC_ETH, closedAfterEach, exactProduct, PrintLog, testScenario } from '../helpers/simulator.js';

const open = closedAfterEach();

async function market(n: number): Promise<{ binanceRest: string; coinbaseRest: string; log: PrintLog; all: PrintedTrade[] }> {
  const sim = await startSimulator({ scenario: testScenario({ symbols: BTC_ETH, totalTrades: n }), seed: 11 });
  open.sims.push(sim);
  const log = new PrintLog();
  sim.onTrade(log.add);
  await sim.done;
  return { binanceRest: sim.binanceRestUrl, coinbaseRest: sim.coinbaseRestUrl, log, all: [...sim.initialTrades, ...log.trades] };
}

const series = (all: PrintedTrade[], exchange: string, symbol: string): PrintedTrade[] =>
  all.filter((t) => t.exchange === exchange && t.symbol === symbol).sort((a, b) => a.tradeId - b.tradeId);

/** a × b as the shortest exact decimal text, worked out on the digits. */
function productText(a: string, b: string): string {
  const { numerator, scale } = exactProduct(a, b);
  const digits = numerator.toString().padStart(scale + 1, '0');
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  const int = digits.slice(0, digits.length - scale);
  return frac ? `${int}.${frac}` : int;
}

describe('Binance GET /api/v3/historicalTrades', () => {
  it('pages by fromId, oldest first, with the weight header; µs on request', async () => {
    const { binanceRest, all } = await market(400);
    const btc = series(all, 'binance', 'BTC-USDT');
    expect(btc.length).toBeGreaterThan(20);
    const from = btc[3]!.tradeId;
    const res = await fetch(`${binanceRest}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${from}&limit=5`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-mbx-used-weight-1m')).toBe('25');
    const rows = (await res.json()) as Array<Record<string, unknown>>;
    expect(rows).toEqual(
      btc.slice(3, 8).map((t) => ({
        id: t.tradeId,
        price: expect.stringMatching(/^\d+\.\d{8}$/) as unknown,
        qty: expect.stringMatching(/^\d+\.\d{8}$/) as unknown,
        quoteQty: productText(t.price, t.size),
        time: t.timeMs,
        isBuyerMaker: t.takerSide === 'sell',
        isBestMatch: true,
      })),
    );
    for (const [i, r] of rows.entries()) {
      expect(Number(r.price)).toBe(Number(btc[3 + i]!.price));
      expect(Number(r.qty)).toBe(Number(btc[3 + i]!.size));
    }

    const us = await fetch(`${binanceRest}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${from}&limit=1`, {
      headers: { 'X-MBX-TIME-UNIT': 'MICROSECOND' },
    });
    expect(us.headers.get('x-mbx-used-weight-1m')).toBe('50');
    const [row] = (await us.json()) as Array<{ time: number }>;
    // The µs time, as the ground truth's ISO text spells it.
    const iso = btc[3]!.timeIso;
    expect(row!.time).toBe(Date.parse(iso.slice(0, 23) + 'Z') * 1000 + Number(iso.slice(23, 26)));

    // Without fromId: the latest trades; past the newest id: nothing.
    const latest = (await (await fetch(`${binanceRest}/api/v3/historicalTrades?symbol=BTCUSDT&limit=2`)).json()) as Array<{ id: number }>;
    expect(latest.map((r) => r.id)).toEqual(btc.slice(-2).map((t) => t.tradeId));
    const beyond = await fetch(`${binanceRest}/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${btc.at(-1)!.tradeId + 1}`);
    expect(await beyond.json()).toEqual([]);
  });

  it('answers bad requests with Binance error codes', async () => {
    const { binanceRest } = await market(10);
    const get = async (q: string) => {
      const r = await fetch(`${binanceRest}/api/v3/historicalTrades${q}`);
      return { status: r.status, body: (await r.json()) as { code: number } };
    };
    expect(await get('')).toMatchObject({ status: 400, body: { code: -1102 } });
    expect(await get('?symbol=DOGEUSDT')).toMatchObject({ status: 400, body: { code: -1121 } });
    expect(await get('?symbol=BTCUSDT&limit=1001')).toMatchObject({ status: 400, body: { code: -1130 } });
    expect(await get('?symbol=BTCUSDT&fromId=-3')).toMatchObject({ status: 400, body: { code: -1100 } });
    const post = await fetch(`${binanceRest}/api/v3/historicalTrades?symbol=BTCUSDT`, { method: 'POST' });
    expect(post.status).toBe(405);
    const unknown = await fetch(`${binanceRest}/api/v3/nothing`);
    expect(unknown.status).toBe(404);
  });

  it('refuses with 429 and Retry-After past 6000 weight in a minute', async () => {
    const { binanceRest } = await market(10);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    // 6000 / 25 = 240 calls fit in a minute; the 241st does not (unless the minute turns meanwhile).
    for (let i = 0; i < 241; i++) {
      const r = await fetch(`${binanceRest}/api/v3/historicalTrades?symbol=BTCUSDT&limit=1`);
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
      await r.arrayBuffer();
    }
    const refused = statuses.filter((s) => s === 429).length;
    if (refused > 0) {
      expect(statuses.indexOf(429)).toBe(240);
      expect(Number(retryAfter)).toBeGreaterThan(0);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    } else {
      // The minute turned during the calls: the weight started over.
      expect(statuses.every((s) => s === 200)).toBe(true);
    }
  });
});

describe('Coinbase GET /coinbase/products/{id}/trades', () => {
  it('is newest first with cursor headers, pages with after and before, and gives the maker side', async () => {
    const { coinbaseRest, all } = await market(400);
    const eth = series(all, 'coinbase', 'ETH-USDT');
    expect(eth.length).toBeGreaterThan(20);
    const first = await fetch(`${coinbaseRest}/products/ETH-USDT/trades?limit=4`);
    expect(first.status).toBe(200);
    const rows = (await first.json()) as Array<Record<string, unknown>>;
    const newest = eth.slice(-4).reverse();
    expect(rows).toEqual(
      newest.map((t) => ({
        time: t.timeIso,
        trade_id: t.tradeId,
        price: expect.any(String) as unknown,
        size: expect.stringMatching(/^\d+\.\d{8}$/) as unknown,
        side: t.takerSide === 'buy' ? 'sell' : 'buy',
      })),
    );
    for (const [i, r] of rows.entries()) {
      expect(Number(r.price)).toBe(Number(newest[i]!.price));
      expect(Number(r.size)).toBe(Number(newest[i]!.size));
    }
    expect(first.headers.get('cb-before')).toBe(String(newest[0]!.tradeId));
    expect(first.headers.get('cb-after')).toBe(String(newest[3]!.tradeId));

    // after = the older page, continuing from CB-AFTER.
    const older = await fetch(`${coinbaseRest}/products/ETH-USDT/trades?limit=3&after=${first.headers.get('cb-after')}`);
    const olderIds = ((await older.json()) as Array<{ trade_id: number }>).map((r) => r.trade_id);
    expect(olderIds).toEqual(
      eth
        .slice(-7, -4)
        .map((t) => t.tradeId)
        .reverse(),
    );
    // before = the newer page: the trades just above the cursor.
    const base = eth[5]!.tradeId;
    const newer = await fetch(`${coinbaseRest}/products/ETH-USDT/trades?limit=3&before=${base}`);
    expect(((await newer.json()) as Array<{ trade_id: number }>).map((r) => r.trade_id)).toEqual([base + 3, base + 2, base + 1]);
  });

  it('answers 404 for an unknown product, 400 for a bad limit, 429 past the public rate', async () => {
    const { coinbaseRest } = await market(10);
    expect((await fetch(`${coinbaseRest}/products/DOGE-USDT/trades`)).status).toBe(404);
    expect((await fetch(`${coinbaseRest}/products/BTC-USDT/trades?limit=0`)).status).toBe(400);
    const statuses = await Promise.all(
      Array.from({ length: 25 }, async () => {
        const r = await fetch(`${coinbaseRest}/products/BTC-USDT/trades?limit=1`);
        await r.arrayBuffer();
        return r.status;
      }),
    );
    expect(statuses).toContain(429);
    expect(statuses).toContain(200);
  });
});

describe('the print history', () => {
  const print = (tradeId: number, symbol = 'BTC-USDT'): Print =>
    ({ trade: { exchange: 'binance', symbol, tradeId }, timeUs: 0, source: {} }) as unknown as Print;
  const ids = (prints: Print[]): number[] => prints.map((p) => p.trade.tradeId);

  it('keeps about the latest `limit` prints per symbol, by id', () => {
    const h = new PrintHistory(10);
    for (let id = 100; id < 125; id++) h.add(print(id));
    h.add(print(7, 'ETH-USDT'));
    expect(h.lastId('binance', 'BTC-USDT')).toBe(124);
    // Trimmed in chunks of a tenth: at most 10 + 1 kept, the newest ones.
    const kept = ids(h.range('binance', 'BTC-USDT', 0, 1_000));
    expect(kept.length).toBeGreaterThanOrEqual(10);
    expect(kept.length).toBeLessThanOrEqual(11);
    expect(kept.at(-1)).toBe(124);
    expect(ids(h.range('binance', 'BTC-USDT', 120, 122))).toEqual([120, 121, 122]);
    expect(ids(h.range('binance', 'ETH-USDT', 0, 10))).toEqual([7]);
    expect(h.range('coinbase', 'BTC-USDT', 0, 10)).toEqual([]);
  });

  it('starts a series over when ids do not follow on (a restarted sequence)', () => {
    const h = new PrintHistory(10);
    for (const id of [5, 6, 7, 1, 2]) h.add(print(id));
    expect(ids(h.range('binance', 'BTC-USDT', 0, 10))).toEqual([1, 2]);
    expect(h.lastId('binance', 'BTC-USDT')).toBe(2);
  });
});

describe('the listings on the simulator port', () => {
  it('exchangeInfo and products name the scenario symbols with their base and quote assets', async () => {
    const { binanceRest, coinbaseRest } = await market(10);
    const info = (await (await fetch(`${binanceRest}/api/v3/exchangeInfo`)).json()) as {
      symbols: Array<{ symbol: string; baseAsset: string; quoteAsset: string; status: string }>;
    };
    expect(info.symbols.map((s) => [s.symbol, s.baseAsset, s.quoteAsset, s.status])).toEqual([
      ['BTCUSDT', 'BTC', 'USDT', 'TRADING'],
      ['ETHUSDT', 'ETH', 'USDT', 'TRADING'],
    ]);
    const products = (await (await fetch(`${coinbaseRest}/products`)).json()) as Array<{
      id: string;
      base_currency: string;
      quote_currency: string;
    }>;
    expect(products.map((p) => [p.id, p.base_currency, p.quote_currency]).sort()).toEqual([
      ['BTC-USDT', 'BTC', 'USDT'],
      ['ETH-USDT', 'ETH', 'USDT'],
    ]);
    // The trades route still owns the product's trades path.
    expect((await fetch(`${coinbaseRest}/products/BTC-USDT/trades?limit=1`)).status).toBe(200);
  });
});
