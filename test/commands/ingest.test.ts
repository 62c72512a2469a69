import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { ingest, type IngestOptions } from '../../src/commands/ingest.js';
import { CoattailError } from '../../src/core/errors.js';
import { freePort } from '../../src/local/processes.js';
import { parseScenario, startSimulator } from '../../src/simulator/index.js';
import { UnifiedTradeSchema } from '../../src/trade.js';
import { tempDir, testContext } from '../helpers/context.js';
import { closeServers, server } from '../helpers/ws-server.js';
import { BIN } from '../helpers/paths.js';

afterEach(closeServers);

function options(over: Partial<IngestOptions> = {}): IngestOptions {
  return {
    exchanges: 'binance,coinbase',
    symbols: 'BTC-USDT,ETH-USDT,SOL-USDT',
    stream: 'coattail-trades',
    stateDir: '.coattail/local',
    sink: 'stdout',
    binanceUrl: 'ws://127.0.0.1:1',
    coinbaseUrl: 'ws://127.0.0.1:1',
    // Nothing listens on port 1: the listings are refused at once (the built-in table decides) and a backfill fails fast, counted.
    binanceRestUrl: 'http://127.0.0.1:1',
    coinbaseRestUrl: 'http://127.0.0.1:1',
    backfill: true,
    symbolsCache: '.coattail/symbols',
    binanceTimeUnit: 'ms',
    lingerMs: '100',
    bufferRecords: '20000',
    statsInterval: '0',
    shutdownTimeout: '5',
    ...over,
  };
}

async function failure(opts: IngestOptions): Promise<CoattailError> {
  const err = await ingest(opts, testContext()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CoattailError);
  return err as CoattailError;
}

describe('coattail ingest options', () => {
  it.each([
    [
      { exchanges: 'kraken' },
      "coattail: unknown exchange 'kraken': coattail reads binance and coinbase. Pass --exchanges binance,coinbase",
    ],
    [{ exchanges: ' , ' }, 'coattail: no exchanges given: --exchanges is empty. Name at least one of binance, coinbase'],
    [
      { symbols: 'BTCUSDT' },
      "coattail: symbol 'BTCUSDT' is not BASE-QUOTE: symbols are written with a dash, upper case. Write it like BTC-USDT",
    ],
    [
      { symbols: 'FOO-USDT' },
      // No listing (nothing on port 1), no cache: the built-in table decides. FOO → DOT, FIL, OP, POL, SOL, TON
      // are two edits each (worked out by hand); ties go alphabetically.
      "coattail: Binance does not list FOO-USDT: the built-in asset table has no such pair (Binance's exchangeInfo could not be fetched, and none is cached). The closest listed are DOT-USDT, FIL-USDT, OP-USDT: pick one or drop it from --symbols",
    ],
    [{ maxTrades: '0' }, "coattail: --max-trades must be a positive whole number: got '0'. Pass e.g. --max-trades 1000"],
    [{ maxTrades: '2.5' }, "coattail: --max-trades must be a positive whole number: got '2.5'. Pass e.g. --max-trades 1000"],
    [
      { duration: 'soon' },
      "coattail: --duration 'soon' is not a duration: write seconds (90) or a number with s, m, h or d (30s, 15m, 2h, 1d). Pass e.g. --duration 15m",
    ],
    [
      { binanceUrl: 'http://example.test' },
      "coattail: --binance-url must be a ws:// or wss:// URL: got 'http://example.test'. Pass e.g. --binance-url ws://127.0.0.1:9443",
    ],
    [{ coinbaseUrl: 'not a url' }, "coattail: --coinbase-url is not a URL: got 'not a url'. Pass e.g. --coinbase-url wss://host:port"],
    [
      { binanceRestUrl: 'ws://127.0.0.1:9443' },
      "coattail: --binance-rest-url must be an http:// or https:// URL: got 'ws://127.0.0.1:9443'. Pass e.g. --binance-rest-url http://127.0.0.1:9443",
    ],
    [
      { coinbaseRestUrl: 'nope' },
      "coattail: --coinbase-rest-url is not a URL: got 'nope'. Pass e.g. --coinbase-rest-url https://host:port",
    ],
  ])('rejects %j with one clear line and exit code 2', async (over, line) => {
    const err = await failure(options(over));
    expect(err.line()).toBe(line);
    expect(err.exitCode).toBe(2);
  });

  it('with --no-backfill, fetches no gap and only counts it (--json)', async () => {
    const frame = (id: number): string =>
      JSON.stringify({ e: 'trade', E: 1_700_000_000_000 + id, s: 'BTCUSDT', t: id, p: '1.5', q: '2', T: 1_700_000_000_000 + id, m: true });
    const srv = await server((ws) => [1, 2, 6].forEach((id) => ws.send(frame(id))));
    const ctx = testContext();
    const code = await ingest(
      options({
        exchanges: 'binance',
        symbols: 'BTC-USDT',
        binanceUrl: srv.url,
        backfill: false,
        maxTrades: '3',
        json: true,
      }),
      ctx,
    );
    expect(code).toBe(0);
    expect(ctx.out.lines()).toHaveLength(3);
    // The stop confirms the gap 3..5: counted missing, none backfilled.
    expect(JSON.parse(ctx.err.lines().at(-1)!)).toMatchObject({ gaps: 1, backfilled: 0, missing_trades: 3 });
  });

  it('accepts any BASE-QUOTE symbol when only Coinbase is read', async () => {
    const srv = await server((ws) =>
      ws.on('message', () =>
        ws.send(
          '{"type":"match","trade_id":1,"sequence":1,"maker_order_id":"m","taker_order_id":"t","time":"2024-05-01T12:00:00.000001Z","product_id":"FOO-BAR","size":"1","price":"2","side":"buy"}',
        ),
      ),
    );
    const ctx = testContext();
    await ingest(options({ exchanges: 'coinbase', symbols: 'FOO-BAR', coinbaseUrl: srv.url, maxTrades: '1' }), ctx);
    expect(JSON.parse(ctx.out.lines()[0]!)).toMatchObject({ symbol: 'FOO-BAR', side: 'sell', quote_volume: 2 });
  });
});

describe('coattail ingest sinks', () => {
  it('--sink stdout prints NDJSON unified trades and nothing else; the --json summary goes to stderr', async () => {
    const srv = await server((ws) => {
      for (let id = 1; id <= 7; id++) {
        ws.send(
          `{"stream":"ethusdt@trade","data":{"e":"trade","E":1,"s":"ETHUSDT","t":${id},"p":"3000.5","q":"0.2","T":1714564800000,"m":true}}`,
        );
      }
    });
    const ctx = testContext();
    const code = await ingest(options({ exchanges: 'binance', binanceUrl: srv.url, maxTrades: '7', json: true }), ctx);
    expect(code).toBe(0);
    const lines = ctx.out.lines();
    expect(lines).toHaveLength(7);
    for (const l of lines)
      expect(UnifiedTradeSchema.parse(JSON.parse(l))).toMatchObject({ symbol: 'ETH-USDT', side: 'sell', quote_volume: 600.1 });
    const summary = JSON.parse(ctx.err.lines().at(-1)!) as { received: number; stop_reason: string };
    expect(summary).toMatchObject({ received: 7, stop_reason: 'reached --max-trades 7' });
  });

  it('names a missing stream and how to create it', async () => {
    const err = await failure(options({ sink: 'kinesis', kinesisEndpoint: inject('kinesisEndpoint'), stream: 'no-such-stream' }));
    expect(err.line()).toBe(
      `coattail: Kinesis stream 'no-such-stream' not found: no such stream at ${inject('kinesisEndpoint')}. Create it, pass --stream, or run 'coattail local up' for the local emulator`,
    );
  });

  it('--local signs with the stand-ins even when an AWS profile is set (the emulator is reached)', async () => {
    // A profile that cannot be loaded: used, it would fail with a credentials error before any request.
    const env = {
      ...process.env,
      AWS_PROFILE: 'coattail-no-such-profile',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const err = await ingest(
      options({ sink: 'kinesis', local: true, kinesisEndpoint: inject('kinesisEndpoint'), stream: 'no-such-stream' }),
      testContext({ env }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as CoattailError).line()).toBe(
      `coattail: Kinesis stream 'no-such-stream' not found: no such stream at ${inject('kinesisEndpoint')}. Create it, pass --stream, or run 'coattail local up' for the local emulator`,
    );
  });

  it('says when Kinesis cannot be reached', async () => {
    const port = await freePort();
    const err = await failure(options({ sink: 'kinesis', kinesisEndpoint: `http://127.0.0.1:${port}` }));
    expect(err.line()).toMatch(
      new RegExp(
        `^coattail: cannot reach Kinesis at http://127.0.0.1:${port}: .+\\. Check --kinesis-endpoint / --region and your credentials$`,
      ),
    );
  });

  it('--local without running emulators says to start them', async () => {
    const dir = tempDir('ingest');
    const err = await failure(options({ sink: 'kinesis', local: true, stateDir: path.join(dir, 'state') }));
    expect(err.line()).toMatch(
      /^coattail: local emulators are not running: .+ Run 'coattail local up' \(or, to read a running demo's, pass --state-dir with the demo's folder, \.coattail\/demo by default\)$/,
    );
  });
});

describe('the coattail binary', () => {
  it('prints a usage error as one line on stderr, nothing on stdout, exit 2', () => {
    const r = spawnSync(process.execPath, [BIN, 'ingest', '--max-trades', '-3'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      "coattail: --max-trades must be a positive whole number: got '-3'. Pass e.g. --max-trades 1000",
    ]);
  });

  it('ends quietly with exit 0 when the reader of stdout goes away (| head)', async () => {
    const sim = await startSimulator({ scenario: parseScenario({ rate: 500, symbols: [{ symbol: 'BTC-USDT', startPrice: 65000 }] }) });
    try {
      const cmd = `set -o pipefail; "${process.execPath}" "${BIN}" ingest --sink stdout --symbols BTC-USDT --binance-url ${sim.binanceUrl} --coinbase-url ${sim.coinbaseUrl} --binance-rest-url ${sim.binanceRestUrl} --coinbase-rest-url ${sim.coinbaseRestUrl} --stats-interval 0 2>ingest.err | head -n 3; echo "ingest exit \${PIPESTATUS[0]}" >&2; cat ingest.err >&2`;
      const dir = tempDir('head');
      const r = await new Promise<{ out: string; err: string }>((resolve) => {
        const child = spawn('bash', ['-c', cmd], { cwd: dir });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', () => resolve({ out, err }));
      });
      expect(r.out.trim().split('\n')).toHaveLength(3);
      expect(r.err).toContain('ingest exit 0');
      expect(r.err).toContain('ingest summary (stdout closed by its reader');
      expect(r.err).not.toMatch(/^coattail: /m);
    } finally {
      await sim.close();
    }
  });

  it('reads options from the environment, flags winning', () => {
    const env = { ...process.env, COATTAIL_EXCHANGES: 'kraken' };
    const fromEnv = spawnSync(process.execPath, [BIN, 'ingest'], { encoding: 'utf8', env });
    expect(fromEnv.stderr).toContain("unknown exchange 'kraken'");
    const flagWins = spawnSync(process.execPath, [BIN, 'ingest', '--exchanges', 'binance', '--symbols', 'nope'], { encoding: 'utf8', env });
    expect(flagWins.stderr).toContain("symbol 'NOPE' is not BASE-QUOTE");
  });

  it('shows examples in --help of every command', () => {
    for (const cmd of [
      [],
      ['ingest'],
      ['simulate'],
      ['replay'],
      ['local', 'up'],
      ['local', 'down'],
      ['local', 'status'],
      ['local', 'peek'],
    ]) {
      const r = spawnSync(process.execPath, [BIN, ...cmd, '--help'], { encoding: 'utf8' });
      expect(r.status, cmd.join(' ')).toBe(0);
      expect(r.stdout, cmd.join(' ')).toMatch(/Examples:\n {2}\$ /);
    }
  });
});
