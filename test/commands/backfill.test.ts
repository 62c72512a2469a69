import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EMRServerlessClient, StartJobRunCommand } from '@aws-sdk/client-emr-serverless';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill, checkBackfill, checkInstant, parseSummary, renderSummary, type BackfillOptions } from '../../src/commands/backfill.js';
import { CoattailError } from '../../src/core/errors.js';
import { metadataRoutes } from '../../src/simulator/rest/metadata.js';
import { tempDir, testContext } from '../helpers/context.js';
import { standInPython, type StandInPython } from '../helpers/python.js';
import { restServer, type TestRestServer } from '../helpers/rest-server.js';

/** A real exchange stand-in listing BTC-USDT, BTC-USD and AR-BUSD (Binance's ARBUSD) and not ARB-USD. */
let exchange: TestRestServer;
beforeAll(async () => {
  exchange = await restServer(
    metadataRoutes(['BTC-USDT', 'BTC-USD', 'AR-BUSD'].map((symbol) => ({ symbol, priceDecimals: 2, sizeDecimals: 5 }))),
  );
});
afterAll(() => exchange.close());

function usageLine(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).exitCode).toBe(2);
    return (err as CoattailError).line();
  }
  throw new Error('no error thrown');
}

const RANGE: BackfillOptions = { symbol: 'BTC-USDT', start: '2024-01-01', end: '2024-01-02' };

describe('coattail backfill: the options', () => {
  it.each([
    ['2024-01-01', Date.UTC(2024, 0, 1)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2024-01-01T12:30:00Z', Date.UTC(2024, 0, 1, 12, 30)],
    ['2024-01-01 12:30Z', Date.UTC(2024, 0, 1, 12, 30)],
    ['2024-01-01T14:30:00+02:00', Date.UTC(2024, 0, 1, 12, 30)],
    ['2024-01-01T12:30:00.250-01:00', Date.UTC(2024, 0, 1, 13, 30, 0, 250)],
  ])('reads %s', (text, ms) => {
    expect(checkInstant(text, '--start')).toBe(ms);
  });

  it.each([
    [
      { ...RANGE, symbol: undefined },
      'coattail: --symbol is missing: backfill loads one symbol. Write it like --symbol BTC-USDT (Coinbase: --symbol BTC-USD)',
    ],
    [
      { ...RANGE, symbol: 'BTCUSDT' },
      "coattail: --symbol 'BTCUSDT' is not BASE-QUOTE: backfill loads one symbol. Write it like --symbol BTC-USDT (Coinbase: --symbol BTC-USD)",
    ],
    [
      { ...RANGE, start: undefined },
      'coattail: --start is missing: backfill loads the range [start, end). Write it like 2024-01-01 (midnight UTC) or 2024-01-01T12:00:00Z',
    ],
    [
      { ...RANGE, start: '2024-01-01T00:00' },
      "coattail: --start '2024-01-01T00:00' is not a date or a time with its zone: the range is in UTC or says its zone. Write it like 2024-01-01 (midnight UTC) or 2024-01-01T12:00:00Z",
    ],
    [
      { ...RANGE, end: '2024-02-30' },
      "coattail: --end '2024-02-30' is not a valid time: a field is out of range. Write it like 2024-01-01 (midnight UTC) or 2024-01-01T12:00:00Z",
    ],
    [
      { ...RANGE, start: '2024-01-02', end: '2024-01-01' },
      'coattail: --end 2024-01-01 is not after --start 2024-01-02: the range is [start, end). Pass an end after the start',
    ],
    // The same instant written in two zones: an empty range.
    [
      { ...RANGE, start: '2024-01-01T02:00:00+02:00', end: '2024-01-01T00:00:00Z' },
      'coattail: --end 2024-01-01T00:00:00Z is not after --start 2024-01-01T02:00:00+02:00: the range is [start, end). Pass an end after the start',
    ],
    [
      { ...RANGE, maxWeight: '24' },
      "coattail: --max-weight '24' is not valid: it must be a whole number from 25 to 6000. Pass e.g. --max-weight 25",
    ],
    [
      { ...RANGE, maxWeight: '6001' },
      "coattail: --max-weight '6001' is not valid: it must be a whole number from 25 to 6000. Pass e.g. --max-weight 25",
    ],
    [
      { ...RANGE, binanceRestUrl: 'api.binance.com' },
      "coattail: --binance-rest-url 'api.binance.com' is not a URL: it is the REST API to fetch the trades from. Write it like --binance-rest-url https://api.binance.com",
    ],
    [
      { ...RANGE, exchange: 'coinbase', coinbaseRestUrl: 'ftp://x' },
      "coattail: --coinbase-rest-url 'ftp://x' is not http(s): the REST API speaks HTTP. Write it like --coinbase-rest-url https://api.exchange.coinbase.com",
    ],
    [
      { ...RANGE, exchange: 'kraken' },
      "coattail: --exchange 'kraken' is not an exchange with history: backfill reads Binance or Coinbase. Pass --exchange binance or coinbase",
    ],
  ])('refuses %j in one line, exit 2', (opts, line) => {
    expect(usageLine(() => checkBackfill(opts))).toBe(line);
  });

  it('takes the REST URL of the exchange it reads, and upper-cases the symbol', () => {
    const opts = { ...RANGE, symbol: 'eth-usd', binanceRestUrl: 'http://b', coinbaseRestUrl: 'http://c' };
    expect(checkBackfill({ ...opts, exchange: 'coinbase' })).toEqual({
      exchange: 'coinbase',
      symbol: 'ETH-USD',
      start: '2024-01-01',
      end: '2024-01-02',
      restUrl: 'http://c',
      timeUnit: 'ms',
      maxWeight: 4800,
    });
    expect(checkBackfill(opts).restUrl).toBe('http://b');
  });
});

/** What historical-loader --json prints: written by hand. */
const SUMMARY = {
  job: 'historical-loader',
  exchange: 'binance',
  symbol: 'BTC-USDT',
  start: '2024-01-01T00:00:00Z',
  end: '2024-01-02T00:00:00Z',
  table: 'coattail.crypto_pulse.raw_trades',
  pages: 1234,
  trades: 1_233_456,
  rejected: 0,
  inserted: 1_233_400,
  already_present: 56,
  commits: 7,
  first_trade_id: '3300000000',
  last_trade_id: '3301233455',
  snapshot_id: '5301479425378617361',
  rest: {
    requests: 1236,
    weight_waits: 6,
    rate_limited: 0,
    banned: 0,
    retried_errors: 1,
    waited_s: 301.5,
    weight_spent: 30854,
    max_used_weight: 4790,
  },
};

const RENDERED = `binance BTC-USDT from 2024-01-01T00:00:00Z to 2024-01-02T00:00:00Z into coattail.crypto_pulse.raw_trades (7 commits)
  pages           1234
  trades fetched  1233456
  inserted        1233400
  already there   56
  rejected        0
  requests        1236, weight 30854 (busiest minute 4790), 301.5 s waited
  snapshot        5301479425378617361
see it: coattail reprocess --as-of 5301479425378617361
`;

describe('coattail backfill: the summary', () => {
  it('renders the figures, and refuses output that is not the summary', () => {
    expect(renderSummary(parseSummary(`noise\n${JSON.stringify(SUMMARY)}\n`).summary)).toBe(RENDERED);
    expect(() => parseSummary('Traceback (most recent call last)\n')).toThrow(
      'the backfill printed no summary: its last line on stdout is not JSON: Traceback (most recent call last)',
    );
    expect(() => parseSummary(JSON.stringify({ ...SUMMARY, inserted: -1 }))).toThrow(/printed a summary of another shape: inserted: /);
  });
});

function fakePython(dir: string, exitCode: number): StandInPython {
  return standInPython(
    dir,
    `process.stderr.write('historical-loader: binance BTC-USDT: 10 pages, 10000 trades\\n');
if (${exitCode} !== 0) {
  process.stderr.write('coattail_jobs: historical-loader: Binance refused GET /api/v3/aggTrades: HTTP 400 -1121: Invalid symbol.\\n');
  process.exit(${exitCode});
}
console.log(${JSON.stringify(JSON.stringify(SUMMARY))});`,
  );
}

describe('coattail backfill: local Spark', () => {
  it('runs historical-loader with the checked arguments and the warehouse, renders its summary or passes the JSON on', async () => {
    const cwd = tempDir('backfill');
    const stand = fakePython(cwd, 0);
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } });
    const opts = { ...RANGE, binanceRestUrl: exchange.url, binanceTimeUnit: 'us', maxWeight: '3000', warehouse: 'wh' };
    expect(await backfill(opts, ctx)).toBe(0);
    expect(stand.seen()).toEqual({
      argv: [
        '-m',
        'coattail_jobs',
        'historical-loader',
        '--exchange',
        'binance',
        '--symbol',
        'BTC-USDT',
        '--exchange-symbol',
        'BTCUSDT',
        '--start',
        '2024-01-01',
        '--end',
        '2024-01-02',
        '--base-url',
        exchange.url,
        '--binance-time-unit',
        'us',
        '--max-weight',
        '3000',
        '--json',
        '--warehouse',
        path.join(cwd, 'wh'),
      ],
      cwd,
    });
    expect(ctx.out.text()).toBe(RENDERED);
    expect(ctx.err.text()).toBe('historical-loader: binance BTC-USDT: 10 pages, 10000 trades\n');

    const json = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } });
    const coinbase = {
      symbol: 'BTC-USD',
      start: '2024-01-01',
      end: '2024-01-01T06:00:00Z',
      exchange: 'coinbase',
      coinbaseRestUrl: `${exchange.url}/coinbase`,
      json: true,
    };
    expect(await backfill(coinbase, json)).toBe(0);
    expect(stand.seen().argv.slice(2)).toEqual([
      'historical-loader',
      '--exchange',
      'coinbase',
      '--symbol',
      'BTC-USD',
      '--exchange-symbol',
      'BTC-USD',
      '--start',
      '2024-01-01',
      '--end',
      '2024-01-01T06:00:00Z',
      '--base-url',
      `${exchange.url}/coinbase`,
      '--json',
      '--warehouse',
      path.join(cwd, '.coattail/warehouse'),
    ]);
    expect(JSON.parse(json.out.text())).toEqual(SUMMARY);
    expect(json.out.lines()).toHaveLength(1);
  });

  it("passes the job's status and its one line through", async () => {
    const cwd = tempDir('backfill');
    const stand = fakePython(cwd, 1);
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } });
    expect(await backfill({ ...RANGE, binanceRestUrl: exchange.url }, ctx)).toBe(1);
    expect(ctx.out.text()).toBe('');
    expect(ctx.err.lines().pop()).toBe(
      'coattail_jobs: historical-loader: Binance refused GET /api/v3/aggTrades: HTTP 400 -1121: Invalid symbol.',
    );
  });
});

describe('coattail backfill: the symbol, resolved against the listing', () => {
  it('refuses a symbol the exchange does not list in one line naming the closest, exit 2, before the job starts', async () => {
    const cwd = tempDir('backfill');
    const stand = fakePython(cwd, 0);
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } });
    // ARB-USD made into a Binance name is ARBUSD, which Binance lists as AR-BUSD: not the pair asked for.
    const line = await backfill({ ...RANGE, symbol: 'ARB-USD', binanceRestUrl: exchange.url }, ctx).then(
      () => 'no error',
      (err: unknown) => {
        expect(err).toBeInstanceOf(CoattailError);
        expect((err as CoattailError).exitCode).toBe(2);
        return (err as CoattailError).line();
      },
    );
    expect(line).toMatch(
      /^coattail: Binance does not list ARB-USD: no such pair in its exchangeInfo \(fetched .*\)\. The closest listed are AR-BUSD[,:].*: pass one of those to --symbol$/,
    );
    expect(() => stand.seen()).toThrow();
  });

  it("passes the exchange's own name of a listed symbol to the job: AR-BUSD is ARBUSD", async () => {
    const cwd = tempDir('backfill');
    const stand = fakePython(cwd, 0);
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } });
    expect(await backfill({ ...RANGE, symbol: 'ar-busd', binanceRestUrl: exchange.url, symbolsCache: 'listings' }, ctx)).toBe(0);
    expect(stand.seen().argv.slice(3, 9)).toEqual(['--exchange', 'binance', '--symbol', 'AR-BUSD', '--exchange-symbol', 'ARBUSD']);
    expect(existsSync(path.join(cwd, 'listings'))).toBe(true); // the listing kept for a start without the network
  });
});

describe('coattail backfill --emr', () => {
  const APP = '00fabc123def4567';
  const ROLE = 'arn:aws:iam::123456789012:role/coattail-emr';
  const RUN = '00fr1234abcd';

  function fakeRoot(): string {
    const root = tempDir('backfill');
    mkdirSync(path.join(root, 'jobs-py', 'coattail_jobs'), { recursive: true });
    writeFileSync(path.join(root, 'jobs-py', 'coattail_jobs', '__init__.py'), 'VERSION = 1\n');
    writeFileSync(path.join(root, 'jobs-py', 'emr_main.py'), 'main()\n');
    writeFileSync(
      path.join(root, 'jobs-py', 'emr-spark-conf.json'),
      JSON.stringify({ 'spark.sql.catalog.coattail.warehouse': 's3://${bucket}/warehouse' }),
    );
    return root;
  }

  it('submits historical-loader as a BATCH run with --mode emr and the checked arguments', async () => {
    const emr = new EMRServerlessClient({ region: 'eu-west-1' });
    const s3 = new S3Client({ region: 'eu-west-1' });
    const emrMock = mockClient(emr);
    mockClient(s3).on(HeadObjectCommand).resolves({});
    emrMock.on(StartJobRunCommand).resolves({ applicationId: APP, jobRunId: RUN, arn: 'arn' });
    const ctx = testContext({ cwd: tempDir('backfill') });
    const opts: BackfillOptions = {
      ...RANGE,
      exchange: 'coinbase',
      symbol: 'btc-usd',
      coinbaseRestUrl: `${exchange.url}/coinbase`,
      emr: true,
      applicationId: APP,
      executionRoleArn: ROLE,
      bucket: 'my-coattail',
      region: 'eu-west-1',
      timeoutMinutes: '120',
      warehouse: 'ignored',
    };
    expect(await backfill(opts, ctx, { emr, s3, root: fakeRoot(), sleep: async () => {}, pollMs: 1 })).toBe(0);
    expect(ctx.out.text()).toBe(`${RUN}\n`);
    const calls = emrMock.commandCalls(StartJobRunCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.mode).toBe('BATCH');
    expect(input.name).toBe('coattail-historical-loader');
    expect(input.executionRoleArn).toBe(ROLE);
    expect(input.executionTimeoutMinutes).toBe(120);
    expect(input.jobDriver?.sparkSubmit?.entryPointArguments).toEqual([
      'historical-loader',
      '--mode',
      'emr',
      '--exchange',
      'coinbase',
      '--symbol',
      'BTC-USD',
      '--exchange-symbol',
      'BTC-USD',
      '--start',
      '2024-01-01',
      '--end',
      '2024-01-02',
      '--base-url',
      `${exchange.url}/coinbase`,
      '--json',
    ]);
  });

  it('refuses an unlisted symbol before anything is sent, and sends the Binance name of a listed one', async () => {
    const emr = new EMRServerlessClient({ region: 'eu-west-1' });
    const s3 = new S3Client({ region: 'eu-west-1' });
    const emrMock = mockClient(emr);
    mockClient(s3).on(HeadObjectCommand).resolves({});
    emrMock.on(StartJobRunCommand).resolves({ applicationId: APP, jobRunId: RUN, arn: 'arn' });
    const deps = { emr, s3, root: fakeRoot(), sleep: async () => {}, pollMs: 1 };
    const opts: BackfillOptions = {
      ...RANGE,
      binanceRestUrl: exchange.url,
      emr: true,
      applicationId: APP,
      executionRoleArn: ROLE,
      bucket: 'my-coattail',
      region: 'eu-west-1',
    };
    await expect(backfill({ ...opts, symbol: 'ARB-USD' }, testContext({ cwd: tempDir('backfill') }), deps)).rejects.toThrow(
      /^Binance does not list ARB-USD/,
    );
    expect(emrMock.calls()).toHaveLength(0);
    expect(await backfill({ ...opts, symbol: 'AR-BUSD' }, testContext({ cwd: tempDir('backfill') }), deps)).toBe(0);
    const args = emrMock.commandCalls(StartJobRunCommand)[0]!.args[0].input.jobDriver?.sparkSubmit?.entryPointArguments;
    expect(args?.slice(3, 9)).toEqual(['--exchange', 'binance', '--symbol', 'AR-BUSD', '--exchange-symbol', 'ARBUSD']);
  });

  it('checks the range before anything is sent', async () => {
    const emr = new EMRServerlessClient({ region: 'eu-west-1' });
    const emrMock = mockClient(emr);
    await expect(backfill({ ...RANGE, end: '2023-12-31', emr: true }, testContext({ cwd: tempDir('backfill') }), { emr })).rejects.toThrow(
      '--end 2023-12-31 is not after --start 2024-01-01',
    );
    expect(emrMock.calls()).toHaveLength(0);
  });
});
