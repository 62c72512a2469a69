/** The simulator's symbol listings (Binance exchangeInfo, Coinbase /products), over a real HTTP server. */
import { afterEach, describe, expect, it } from 'vitest';
import { metadataRoutes } from '../../src/simulator/rest/metadata.js';
import { parseScenario } from '../../src/simulator/index.js';
import { restServer, type TestRestServer } from '../helpers/rest-server.js';

const rests: TestRestServer[] = [];
afterEach(async () => Promise.all(rests.splice(0).map((r) => r.close())));

const scenario = parseScenario({
  rate: 10,
  symbols: [
    { symbol: 'AR-BUSD', startPrice: 7.5, priceDecimals: 3, sizeDecimals: 2 },
    { symbol: 'BTC-USDT', startPrice: 65000 },
  ],
});

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const srv = rests[0] ?? (await restServer(metadataRoutes(scenario.symbols, () => 1765140000000)));
  if (rests.length === 0) rests.push(srv);
  const res = await fetch(`${srv.url}${path}`);
  return { status: res.status, body: await res.json() };
}

describe('simulator metadata routes', () => {
  it("lists the scenario's symbols in exchangeInfo, base and quote split at the dash", async () => {
    const { status, body } = await get('/api/v3/exchangeInfo');
    expect(status).toBe(200);
    const info = body as { timezone: string; serverTime: number; symbols: Array<Record<string, unknown>> };
    expect(info.timezone).toBe('UTC');
    expect(info.serverTime).toBe(1765140000000);
    expect(info.symbols.map((s) => [s.symbol, s.baseAsset, s.quoteAsset, s.status])).toEqual([
      ['ARBUSD', 'AR', 'BUSD', 'TRADING'],
      ['BTCUSDT', 'BTC', 'USDT', 'TRADING'],
    ]);
    expect(info.symbols[0]?.filters).toEqual([
      { filterType: 'PRICE_FILTER', minPrice: '0.001', maxPrice: '1000000.00000000', tickSize: '0.001' },
      { filterType: 'LOT_SIZE', minQty: '0.01', maxQty: '9000.00000000', stepSize: '0.01' },
    ]);
  });

  it('answers the symbol= and symbols= filters as Binance does, -1121 for a symbol it does not list', async () => {
    const one = await get('/api/v3/exchangeInfo?symbol=BTCUSDT');
    expect((one.body as { symbols: Array<{ symbol: string }> }).symbols.map((s) => s.symbol)).toEqual(['BTCUSDT']);
    const some = await get(`/api/v3/exchangeInfo?symbols=${encodeURIComponent('["BTCUSDT","ARBUSD"]')}`);
    expect((some.body as { symbols: Array<{ symbol: string }> }).symbols.map((s) => s.symbol)).toEqual(['BTCUSDT', 'ARBUSD']);
    expect(await get('/api/v3/exchangeInfo?symbol=ETHUSDT')).toEqual({ status: 400, body: { code: -1121, msg: 'Invalid symbol.' } });
    expect((await get('/api/v3/exchangeInfo?symbols=BTCUSDT')).status).toBe(400);
  });

  it('lists the products under /coinbase, one by id, 404 for another, and leaves deeper paths to other routes', async () => {
    const all = await get('/coinbase/products');
    expect(all.status).toBe(200);
    expect(
      (all.body as Array<Record<string, unknown>>).map((p) => [p.id, p.base_currency, p.quote_currency, p.status, p.trading_disabled]),
    ).toEqual([
      ['AR-BUSD', 'AR', 'BUSD', 'online', false],
      ['BTC-USDT', 'BTC', 'USDT', 'online', false],
    ]);
    const one = await get('/coinbase/products/AR-BUSD');
    expect(one.body).toMatchObject({ id: 'AR-BUSD', quote_increment: '0.001', base_increment: '0.01' });
    expect(await get('/coinbase/products/ETH-USD')).toEqual({ status: 404, body: { message: 'NotFound' } });
    const [binance, coinbase] = metadataRoutes(scenario.symbols);
    const trades = { method: 'GET', url: new URL('http://h/coinbase/products/BTC-USDT/trades'), headers: {} };
    expect(coinbase?.(trades)).toBeUndefined();
    expect(binance?.(trades)).toBeUndefined();
    expect(coinbase?.({ ...trades, method: 'POST', url: new URL('http://h/coinbase/products') })).toBeUndefined();
  });
});
