/**
 * Symbols resolved from the exchanges' listings, served by a real HTTP server with hand-written replies in
 * the exchanges' shapes (Binance exchangeInfo, Coinbase /products), the cache, and the built-in table.
 */
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CoattailError } from '../../src/core/errors.js';
import type { RestRoute } from '../../src/simulator/rest/types.js';
import { cacheFile } from '../../src/symbols/cache.js';
import { closest, editDistance } from '../../src/symbols/closest.js';
import { binanceSymbols, coinbaseSymbols } from '../../src/symbols/listing.js';
import { resolveSymbols, type ResolveOptions } from '../../src/symbols/resolve.js';
import { captureLogger, tempDir } from '../helpers/context.js';
import { restServer, type TestRestServer } from '../helpers/rest-server.js';

const rests: TestRestServer[] = [];
afterEach(async () => Promise.all(rests.splice(0).map((r) => r.close())));

// Abridged from the exchanges' replies: the fields that matter here plus a few of the many others.
const EXCHANGE_INFO = {
  timezone: 'UTC',
  serverTime: 1765140000000,
  rateLimits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 }],
  exchangeFilters: [],
  symbols: [
    { symbol: 'ARBUSD', status: 'BREAK', baseAsset: 'AR', baseAssetPrecision: 8, quoteAsset: 'BUSD', quotePrecision: 8, filters: [] },
    { symbol: 'ARBUSDT', status: 'TRADING', baseAsset: 'ARB', baseAssetPrecision: 8, quoteAsset: 'USDT', quotePrecision: 8, filters: [] },
    { symbol: 'BTCUSDT', status: 'TRADING', baseAsset: 'BTC', baseAssetPrecision: 8, quoteAsset: 'USDT', quotePrecision: 8, filters: [] },
    { symbol: 'BTCUSDC', status: 'TRADING', baseAsset: 'BTC', baseAssetPrecision: 8, quoteAsset: 'USDC', quotePrecision: 8, filters: [] },
    {
      symbol: '1000SATSUSDT',
      status: 'TRADING',
      baseAsset: '1000SATS',
      baseAssetPrecision: 8,
      quoteAsset: 'USDT',
      quotePrecision: 8,
      filters: [],
    },
  ],
};
const PRODUCTS = [
  {
    id: 'BTC-USD',
    base_currency: 'BTC',
    quote_currency: 'USD',
    quote_increment: '0.01',
    base_increment: '0.00000001',
    display_name: 'BTC-USD',
    status: 'online',
    status_message: '',
    trading_disabled: false,
    cancel_only: false,
  },
  {
    id: 'BTC-USDT',
    base_currency: 'BTC',
    quote_currency: 'USDT',
    quote_increment: '0.01',
    base_increment: '0.00000001',
    display_name: 'BTC-USDT',
    status: 'online',
    status_message: '',
    trading_disabled: false,
    cancel_only: false,
  },
  {
    id: 'OLD-USD',
    base_currency: 'OLD',
    quote_currency: 'USD',
    quote_increment: '0.01',
    base_increment: '0.1',
    display_name: 'OLD-USD',
    status: 'delisted',
    status_message: '',
    trading_disabled: true,
    cancel_only: false,
  },
];

const fixed =
  (pathname: string, status: number, body: unknown): RestRoute =>
  (req) =>
    req.url.pathname === pathname ? { status, body } : undefined;

async function exchanges(
  binance = fixed('/api/v3/exchangeInfo', 200, EXCHANGE_INFO),
  coinbase = fixed('/coinbase/products', 200, PRODUCTS),
) {
  const srv = await restServer([binance, coinbase]);
  rests.push(srv);
  return { binance: srv.url, coinbase: `${srv.url}/coinbase`, srv };
}

function resolveWith(restUrls: { binance: string; coinbase: string }, over: Partial<ResolveOptions> = {}) {
  const { logger, records } = captureLogger('info');
  const cacheDir = over.cacheDir ?? tempDir('listing-cache');
  const run = resolveSymbols({
    exchanges: ['binance'],
    symbols: ['BTC-USDT'],
    restUrls,
    cacheDir,
    logger,
    now: () => Date.UTC(2026, 11, 7, 20, 0, 0),
    ...over,
  });
  return { run, records, cacheDir };
}

const refusal = async (p: Promise<unknown>): Promise<CoattailError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CoattailError);
  expect((err as CoattailError).exitCode).toBe(2);
  return err as CoattailError;
};

describe('listings', () => {
  it('reads base and quote as the exchange names them, and whether it trades now', () => {
    expect(binanceSymbols(EXCHANGE_INFO)).toEqual([
      { exchangeSymbol: 'ARBUSD', base: 'AR', quote: 'BUSD', unified: 'AR-BUSD', trading: false, status: 'BREAK' },
      { exchangeSymbol: 'ARBUSDT', base: 'ARB', quote: 'USDT', unified: 'ARB-USDT', trading: true, status: 'TRADING' },
      { exchangeSymbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', unified: 'BTC-USDT', trading: true, status: 'TRADING' },
      { exchangeSymbol: 'BTCUSDC', base: 'BTC', quote: 'USDC', unified: 'BTC-USDC', trading: true, status: 'TRADING' },
      { exchangeSymbol: '1000SATSUSDT', base: '1000SATS', quote: 'USDT', unified: '1000SATS-USDT', trading: true, status: 'TRADING' },
    ]);
    expect(coinbaseSymbols(PRODUCTS)).toEqual([
      { exchangeSymbol: 'BTC-USD', base: 'BTC', quote: 'USD', unified: 'BTC-USD', trading: true, status: 'online' },
      { exchangeSymbol: 'BTC-USDT', base: 'BTC', quote: 'USDT', unified: 'BTC-USDT', trading: true, status: 'online' },
      { exchangeSymbol: 'OLD-USD', base: 'OLD', quote: 'USD', unified: 'OLD-USD', trading: false, status: 'trading disabled' },
    ]);
    expect(binanceSymbols({ code: -1121, msg: 'Invalid symbol.' })).toMatch(/^not an exchangeInfo reply \(symbols: /);
    expect(coinbaseSymbols({ message: 'NotFound' })).toMatch(/^not a products reply/);
  });

  it('finds the nearest names, a swap of neighbours counting as one edit', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('BTC-USTD', 'BTC-USDT')).toBe(1);
    expect(editDistance('', 'ABC')).toBe(3);
    expect(closest('BTC-USTD', ['ETH-USDT', 'BTC-USDC', 'BTC-USDT', 'AR-BUSD'])).toEqual(['BTC-USDT', 'BTC-USDC', 'ETH-USDT']);
  });

  it('keeps the public endpoint in <exchange>.json, any other beside it', () => {
    expect(cacheFile('/c', 'binance', 'https://api.binance.com/')).toBe(path.join('/c', 'binance.json'));
    expect(cacheFile('/c', 'coinbase', 'https://api.exchange.coinbase.com')).toBe(path.join('/c', 'coinbase.json'));
    expect(cacheFile('/c', 'coinbase', 'http://127.0.0.1:9443/coinbase')).toBe(path.join('/c', 'coinbase-127.0.0.1-9443-coinbase.json'));
  });
});

describe('resolveSymbols', () => {
  it('maps each symbol to the name the exchange lists it under, and warns of one it does not trade now', async () => {
    const urls = await exchanges();
    const { run, records, cacheDir } = resolveWith(urls, { exchanges: ['binance', 'coinbase'], symbols: ['BTC-USDT'] });
    expect(await run).toEqual({ binance: new Map([['BTC-USDT', 'BTCUSDT']]), coinbase: new Map([['BTC-USDT', 'BTC-USDT']]) });
    expect(records().map((r) => r.msg)).toEqual([
      "symbols resolved from Binance's exchangeInfo",
      "symbols resolved from Coinbase's products",
    ]);
    const cached = JSON.parse(readFileSync(cacheFile(cacheDir, 'binance', urls.binance), 'utf8')) as {
      fetched_at: string;
      symbols: unknown[];
    };
    expect(cached.fetched_at).toBe('2026-12-07T20:00:00.000Z');
    expect(cached.symbols).toHaveLength(5);

    const ar = resolveWith(urls, { symbols: ['AR-BUSD', '1000SATS-USDT'] });
    expect(await ar.run).toEqual({
      binance: new Map([
        ['AR-BUSD', 'ARBUSD'],
        ['1000SATS-USDT', '1000SATSUSDT'],
      ]),
    });
    expect(ar.records().map((r) => r.msg)).toContain('Binance lists AR-BUSD but does not trade it now (BREAK): expect no trades for it');
  });

  it('refuses what an exchange does not list, naming the closest listed symbols for each', async () => {
    const urls = await exchanges();
    const one = await refusal(resolveWith(urls, { exchanges: ['coinbase'], symbols: ['BTC-USDT', 'ETH-USD'] }).run);
    // ETH-USD → BTC-USD is 2 substitutions (E→B, H→C), → BTC-USDT 3 (and a T), → OLD-USD 3; ties alphabetically.
    expect(one.line()).toBe(
      'coattail: Coinbase does not list ETH-USD: no such pair in its products (fetched 2026-12-07T20:00:00Z). The closest listed are BTC-USD, BTC-USDT, OLD-USD: pick one or drop it from --symbols',
    );
    // ARB-USD: AR-BUSD is one swap ("B-" → "-B"), ARB-USDT one insertion, BTC-USDC and BTC-USDT four edits.
    const two = await refusal(resolveWith(urls, { symbols: ['BTC-USTD', 'ARB-USD'] }).run);
    expect(two.what).toBe('Binance does not list BTC-USTD, ARB-USD');
    expect(two.fix).toBe(
      'closest to BTC-USTD: BTC-USDT, BTC-USDC, ARB-USDT; closest to ARB-USD: AR-BUSD, ARB-USDT, BTC-USDC: pick one or drop it from --symbols',
    );
  });

  it('starts from the cached listing when the exchange cannot be reached, and says so', async () => {
    const urls = await exchanges();
    const cacheDir = tempDir('listing-cache');
    await resolveWith(urls, { cacheDir }).run;
    await urls.srv.close();
    const offline = resolveWith(urls, { cacheDir, symbols: ['AR-BUSD'] });
    expect(await offline.run).toEqual({ binance: new Map([['AR-BUSD', 'ARBUSD']]) });
    const warning = offline.records().find((r) => r.level === 'warn');
    expect(warning?.msg).toBe("Binance's exchangeInfo could not be fetched: using the listing cached at 2026-12-07T20:00:00Z");
    expect(warning?.why).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/api\/v3\/exchangeInfo failed \(ECONNREFUSED\)$/);
  });

  it('falls back to the built-in table past an error reply or an unusable cache, and it reads ARBUSD its own way', async () => {
    const urls = await exchanges(fixed('/api/v3/exchangeInfo', 418, { code: -1003, msg: 'Way too much request weight used; IP banned.' }));
    const cacheDir = tempDir('listing-cache');
    const file = cacheFile(cacheDir, 'binance', urls.binance);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '{"exchange":"binance","source":');
    const { run, records } = resolveWith(urls, { cacheDir, symbols: ['ARB-USD', 'BTC-USDT'] });
    expect(await run).toEqual({
      binance: new Map([
        ['ARB-USD', 'ARBUSD'],
        ['BTC-USDT', 'BTCUSDT'],
      ]),
    });
    const warning = records().find((r) => r.level === 'warn');
    expect(warning?.msg).toMatch(
      /^Binance's exchangeInfo could not be fetched and the cached listing is unusable \(not JSON .*\): using the built-in asset table$/,
    );
    expect(warning?.why).toBe(`GET ${urls.binance}/api/v3/exchangeInfo answered HTTP 418`);
  });

  it('takes Coinbase symbols unchecked when neither the listing nor a cache is there', async () => {
    const { run, records } = resolveWith(
      { binance: 'http://127.0.0.1:1', coinbase: 'http://127.0.0.1:1' },
      { exchanges: ['coinbase'], symbols: ['FOO-BAR'] },
    );
    expect(await run).toEqual({ coinbase: new Map([['FOO-BAR', 'FOO-BAR']]) });
    expect(records().map((r) => r.msg)).toEqual([
      "Coinbase's products could not be fetched and no listing is cached: the symbols are used as product ids unchecked",
    ]);
  });

  it('gives up on an exchange that does not answer within the timeout', async () => {
    let accepted = 0;
    const silent = createServer(() => (accepted += 1)); // takes the request, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const { run, records } = resolveWith({ binance: `http://127.0.0.1:${port}`, coinbase: 'http://127.0.0.1:1' }, { timeoutMs: 300 });
      expect(await run).toEqual({ binance: new Map([['BTC-USDT', 'BTCUSDT']]) });
      expect(accepted).toBe(1);
      expect(records().find((r) => r.level === 'warn')?.why).toBe(
        `GET http://127.0.0.1:${port}/api/v3/exchangeInfo took longer than 0.3 s`,
      );
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
