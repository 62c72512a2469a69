/**
 * `coattail ingest --symbols` resolved through the exchanges' listings: a real WebSocket market (the
 * simulator) and a real HTTP server answering exchangeInfo and /products from the same scenario.
 * What is expected comes from the scenario and the simulator's record of what it printed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ingest, type IngestOptions } from '../../src/commands/ingest.js';
import { CoattailError } from '../../src/core/errors.js';
import { parseScenario, startSimulator, type PrintedTrade, type SimulatorHandle } from '../../src/simulator/index.js';
import { metadataRoutes } from '../../src/simulator/rest/metadata.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { captureLogger, tempDir, testContext, waitFor } from '../helpers/context.js';
import { BIN } from '../helpers/paths.js';
import { restServer, type TestRestServer } from '../helpers/rest-server.js';

const sims: SimulatorHandle[] = [];
const rests: TestRestServer[] = [];
afterEach(async () => {
  await Promise.all([...sims.splice(0).map((s) => s.close()), ...rests.splice(0).map((r) => r.close())]);
});

// AR/BUSD is ARBUSD on Binance; a split by the longest known suffix would make it ARB-USD.
const scenario = parseScenario({
  rate: 400,
  totalTrades: 120,
  waitForClients: true,
  symbols: [
    { symbol: 'AR-BUSD', startPrice: 7.5 },
    { symbol: 'BTC-USDT', startPrice: 65000 },
  ],
});

function options(over: Partial<IngestOptions>): IngestOptions {
  return {
    exchanges: 'binance,coinbase',
    symbols: 'AR-BUSD,BTC-USDT',
    stream: 'coattail-trades',
    stateDir: '.coattail/local',
    sink: 'stdout',
    binanceUrl: 'ws://127.0.0.1:1',
    coinbaseUrl: 'ws://127.0.0.1:1',
    binanceRestUrl: 'http://127.0.0.1:1',
    backfill: true,
    coinbaseRestUrl: 'http://127.0.0.1:1/coinbase',
    symbolsCache: '.coattail/symbols',
    binanceTimeUnit: 'ms',
    lingerMs: '100',
    bufferRecords: '20000',
    statsInterval: '0',
    shutdownTimeout: '5',
    ...over,
  };
}

/** Ingests the whole of a fresh simulated market; returns the trades emitted, what was printed, and the logs. */
async function ingestMarket(cwd: string, over: Partial<IngestOptions>, market = scenario) {
  const sim = await startSimulator({ scenario: market, seed: 11 });
  sims.push(sim);
  // Coinbase reports the trade printed before the subscription (last_match) first; Binance does not.
  const printed: PrintedTrade[] = sim.initialTrades.filter((t) => t.exchange === 'coinbase');
  sim.onTrade((t) => printed.push(t));
  const { logger, records } = captureLogger('info');
  const ctx = testContext({ cwd, logger });
  const run = ingest(options({ binanceUrl: sim.binanceUrl, coinbaseUrl: sim.coinbaseUrl, ...over }), ctx);
  await sim.done;
  await waitFor(() => ctx.out.lines().length >= printed.length, 15_000, 'every printed trade to come out');
  ctx.abort.abort();
  expect(await run).toBe(0);
  const trades = ctx.out.lines().map((l) => JSON.parse(l) as UnifiedTrade);
  return { trades, printed, messages: records().map((r) => r.msg) };
}

const eventIds = (printed: PrintedTrade[]) => printed.map((t) => `${t.exchange}:${t.symbol}:${t.tradeId}`).sort();

describe('ingest --symbols through the exchanges listings', () => {
  it('reads AR-BUSD as AR/BUSD from exchangeInfo, keeps the listings, and starts from them when the REST server is gone', async () => {
    const cwd = tempDir('symbols');
    const rest = await restServer(metadataRoutes(scenario.symbols));
    rests.push(rest);
    const restUrls = { binanceRestUrl: rest.url, coinbaseRestUrl: `${rest.url}/coinbase` };

    const first = await ingestMarket(cwd, restUrls);
    expect(first.trades.map((t) => t.event_id).sort()).toEqual(eventIds(first.printed));
    expect(new Set(first.trades.map((t) => t.symbol))).toEqual(new Set(['AR-BUSD', 'BTC-USDT']));
    expect(first.printed.some((t) => t.exchange === 'binance' && t.symbol === 'AR-BUSD')).toBe(true);
    expect(rest.requests.map((r) => r.url.pathname).sort()).toEqual(['/api/v3/exchangeInfo', '/coinbase/products']);
    expect(first.messages).toContain("symbols resolved from Binance's exchangeInfo");

    const port = new URL(rest.url).port;
    const cached = path.join(cwd, '.coattail', 'symbols', `binance-127.0.0.1-${port}.json`);
    const file = JSON.parse(readFileSync(cached, 'utf8')) as { source: string; symbols: Array<Record<string, unknown>> };
    expect(file.source).toBe(rest.url);
    expect(file.symbols).toContainEqual({
      symbol: 'ARBUSD',
      base: 'AR',
      quote: 'BUSD',
      unified: 'AR-BUSD',
      trading: true,
      status: 'TRADING',
    });
    expect(existsSync(path.join(cwd, '.coattail', 'symbols', `coinbase-127.0.0.1-${port}-coinbase.json`))).toBe(true);

    await rest.close();
    const second = await ingestMarket(cwd, restUrls);
    expect(second.trades.map((t) => t.event_id).sort()).toEqual(eventIds(second.printed));
    expect(second.messages.filter((m) => m.includes('could not be fetched: using the listing cached at'))).toHaveLength(2);
  });

  it('falls back to the built-in asset table with no listing and no cache', async () => {
    const cwd = tempDir('symbols-builtin');
    const btcOnly = parseScenario({
      rate: 400,
      totalTrades: 60,
      waitForClients: true,
      symbols: [{ symbol: 'BTC-USDT', startPrice: 65000 }],
    });
    const run = await ingestMarket(cwd, { symbols: 'BTC-USDT' }, btcOnly);
    expect(run.trades.map((t) => t.event_id).sort()).toEqual(eventIds(run.printed));
    expect(new Set(run.trades.map((t) => t.symbol))).toEqual(new Set(['BTC-USDT']));
    expect(run.messages).toContain("Binance's exchangeInfo could not be fetched and no listing is cached: using the built-in asset table");
    expect(run.messages).toContain(
      "Coinbase's products could not be fetched and no listing is cached: the symbols are used as product ids unchecked",
    );

    // The table splits ARBUSD as ARB-USD: AR-BUSD is refused rather than read wrong.
    const err = await ingest(options({ symbols: 'AR-BUSD', exchanges: 'binance' }), testContext({ cwd })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).exitCode).toBe(2);
    expect((err as CoattailError).line()).toMatch(
      /^coattail: Binance does not list AR-BUSD: the built-in asset table has no such pair \(Binance's exchangeInfo could not be fetched, and none is cached\)\. The closest listed are /,
    );
  });

  it('refuses a symbol an exchange does not list in one line naming the closest listed ones, exit 2', async () => {
    const rest = await restServer(metadataRoutes(scenario.symbols));
    rests.push(rest);
    const ctx = testContext({ cwd: tempDir('symbols-typo') });
    const err = await ingest(
      options({ symbols: 'BTC-USTD', binanceRestUrl: rest.url, coinbaseRestUrl: `${rest.url}/coinbase` }),
      ctx,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).exitCode).toBe(2);
    // BTC-USTD → BTC-USDT is one swap; AR-BUSD is 6 edits away (worked out by hand).
    expect((err as CoattailError).line()).toMatch(
      /^coattail: Binance does not list BTC-USTD: no such pair in its exchangeInfo \(fetched \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\. The closest listed are BTC-USDT, AR-BUSD: pick one or drop it from --symbols$/,
    );
    expect(ctx.out.text()).toBe('');
  });

  it('the binary says it in one line on stderr and exits 2', async () => {
    const rest = await restServer(metadataRoutes(scenario.symbols));
    rests.push(rest);
    const args = [
      'ingest',
      '--sink',
      'stdout',
      '--symbols',
      'BTC-USTD',
      '--binance-rest-url',
      rest.url,
      '--coinbase-rest-url',
      `${rest.url}/coinbase`,
    ];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tempDir('symbols-bin'), env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^coattail: Binance does not list BTC-USTD: .*The closest listed are BTC-USDT, AR-BUSD: pick one or drop it from --symbols$/,
      ),
    ]);
  });
});
