import { spawn, type ChildProcess } from 'node:child_process';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { watch, type WatchOptions } from '../../src/commands/watch.js';
import { CoattailError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { describeTable } from '../../src/local/resources.js';
import { Capture, testContext, waitFor } from '../helpers/context.js';
import { dynamoClient, isoAt, newAlertsTable, putAlerts, spreadItem, whaleItem } from '../helpers/watch.js';
import { BIN } from '../helpers/paths.js';

let client: DynamoDBClient;
let endpoint: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  endpoint = inject('dynamoEndpoint');
  client = dynamoClient(endpoint);
});
afterAll(() => client.destroy());
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function options(table: string, over: Partial<WatchOptions> = {}): WatchOptions {
  return { since: '15m', stateDir: '.coattail/local', table, dynamodbEndpoint: endpoint, intervalMs: '50', ...over };
}

async function failure(kind: string, opts: WatchOptions): Promise<CoattailError> {
  const ctx = testContext();
  const err = await watch(kind, opts, ctx).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CoattailError);
  return err as CoattailError;
}

describe('coattail watch in-process', () => {
  it('prints NDJSON, one alert a line as stored, when stdout is not a terminal; stops cleanly on abort', async () => {
    const table = await newAlertsTable(client);
    const now = Date.now();
    const first = whaleItem({ alert_time: isoAt(now, -20_000), trade_id: '1', written_at: isoAt(now, -19_000) });
    const second = whaleItem({ alert_time: isoAt(now, -10_000), trade_id: '2', symbol: 'ETH-USDT', side: 'sell' });
    await putAlerts(client, table, [second, first]);
    const ctx = testContext();
    const run = watch('whales', options(table), ctx);
    await waitFor(() => ctx.out.lines().length >= 2, 5_000, 'two NDJSON lines');
    const late = whaleItem({ alert_time: isoAt(now, -5_000), trade_id: '3' });
    await putAlerts(client, table, [late]);
    await waitFor(() => ctx.out.lines().length >= 3, 5_000, 'the third line');
    ctx.abort.abort();
    await expect(run).resolves.toBe(0);
    expect(ctx.out.lines().map((l) => JSON.parse(l) as unknown)).toEqual([first, second, late]);
  });

  it('with --symbols and --min-usd prints only what passes', async () => {
    const table = await newAlertsTable(client);
    const now = Date.now();
    const keep = whaleItem({ alert_time: isoAt(now, -3_000), trade_id: 'keep', symbol: 'ETH-USDT', quote_volume: 300_000 });
    await putAlerts(client, table, [
      whaleItem({ alert_time: isoAt(now, -4_000), trade_id: 'small', symbol: 'ETH-USDT', quote_volume: 120_000 }),
      keep,
      whaleItem({ alert_time: isoAt(now, -2_000), trade_id: 'sol', symbol: 'SOL-USDT', quote_volume: 900_000 }),
      whaleItem({ alert_time: isoAt(now, -30 * 60_000), trade_id: 'old', symbol: 'ETH-USDT', quote_volume: 900_000 }),
    ]);
    const ctx = testContext();
    const run = watch('whales', options(table, { symbols: 'eth-usdt', minUsd: '250000', since: '10m' }), ctx);
    await waitFor(() => ctx.out.lines().length >= 1, 5_000, 'a line');
    ctx.abort.abort();
    await run;
    expect(ctx.out.lines().map((l) => (JSON.parse(l) as { alert_id: string }).alert_id)).toEqual([keep.alert_id]);
  });

  it('warns that --min-usd does not apply to spreads, and prints them all', async () => {
    const table = await newAlertsTable(client);
    const item = spreadItem({ alert_time: isoAt(Date.now(), -1_000) });
    await putAlerts(client, table, [item]);
    const err = new Capture();
    const ctx = testContext({ logger: createLogger(err, { level: 'warn' }) });
    const run = watch('spreads', options(table, { minUsd: '1000000' }), ctx);
    await waitFor(() => ctx.out.lines().length >= 1, 5_000, 'a line');
    ctx.abort.abort();
    await run;
    expect(err.text()).toContain('--min-usd does not apply to spreads');
    expect(JSON.parse(ctx.out.lines()[0] ?? '{}')).toEqual(item);
  });

  it('says the table is missing in one line, with the fix', async () => {
    const err = await failure('whales', options('no-such-table'));
    expect(err.line()).toBe(
      `coattail: alert table 'no-such-table' not found: no such table at ${endpoint}. Run 'coattail local up' (or pass --table)`,
    );
    expect(err.exitCode).toBe(1);
  });

  it('says the table lacks the time index rather than scanning it', async () => {
    const name = `watch-noindex-${Date.now()}`;
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'alert_id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'alert_id', KeyType: 'HASH' }],
      }),
    );
    while ((await describeTable(client, name))?.TableStatus !== 'ACTIVE') await new Promise((r) => setTimeout(r, 20));
    const err = await failure('whales', options(name));
    expect(err.line()).toMatch(
      new RegExp(
        `^coattail: alert table '${name}' has no index by_type_time: .*by_type_time.*\\. Delete the table and run 'coattail local up' to recreate it$`,
      ),
    );
  });

  it('says when the store cannot be reached', async () => {
    const err = await failure('whales', options('t', { dynamodbEndpoint: 'http://127.0.0.1:1' }));
    expect(err.line()).toMatch(
      /^coattail: cannot read alerts from DynamoDB at http:\/\/127\.0\.0\.1:1: .+\. Check 'coattail local status' or --dynamodb-endpoint$/,
    );
  });

  it.each([
    ['dolphins', {}, "coattail: cannot watch 'dolphins': coattail watches whales, anomalies, spreads. Run e.g. coattail watch whales"],
    [
      'whales',
      { since: 'soon' },
      "coattail: --since 'soon' is not a duration: write seconds (90) or a number with s, m, h or d (30s, 15m, 2h, 1d). Pass e.g. --since 15m",
    ],
    [
      'whales',
      { symbols: 'BTCUSDT' },
      "coattail: symbol 'BTCUSDT' is not BASE-QUOTE: symbols are written with a dash. Write it like BTC-USDT",
    ],
    [
      'whales',
      { symbols: ' , ' },
      'coattail: no symbols given: --symbols is empty. Leave it out to watch every symbol, or pass e.g. --symbols BTC-USDT,ETH-USDT',
    ],
    ['whales', { minUsd: '-5' }, "coattail: --min-usd must be a number ≥ 0: got '-5'. Pass e.g. --min-usd 250000"],
    [
      'whales',
      { intervalMs: '10' },
      "coattail: --interval-ms '10' is not valid: it must be a whole number from 50 to 3600000. Pass e.g. --interval-ms 50",
    ],
  ])('rejects %s %j with one line and exit code 2', async (kind, over, line) => {
    const err = await failure(kind, options('t', over));
    expect(err.line()).toBe(line);
    expect(err.exitCode).toBe(2);
  });

  it('with --local and no local state, says to run local up', async () => {
    const err = await failure(
      'whales',
      options('t', { dynamodbEndpoint: undefined, local: true, stateDir: '/nonexistent/coattail-state' }),
    );
    expect(err.line()).toBe(
      "coattail: local emulators are not running: no state in /nonexistent/coattail-state. Run 'coattail local up' (or, to read a running demo's, pass --state-dir with the demo's folder, .coattail/demo by default)",
    );
  });
});

/** Collects a child's output as text. */
function collect(child: ChildProcess): { out: () => string; err: () => string; exit: Promise<number | null> } {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { out: () => out, err: () => err, exit };
}

describe('coattail watch, the binary with stdout a pipe', () => {
  const args = (table: string): string[] => [
    BIN,
    'watch',
    'whales',
    '--dynamodb-endpoint',
    endpoint,
    '--table',
    table,
    '--since',
    '1h',
    '--interval-ms',
    '100',
  ];

  it('prints lines as alerts arrive, then exits 0 on SIGTERM', async () => {
    const table = await newAlertsTable(client);
    const now = Date.now();
    const a = whaleItem({ alert_time: isoAt(now, -2_000), trade_id: 'a' });
    await putAlerts(client, table, [a]);
    const child = spawn(process.execPath, args(table), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const io = collect(child);
    await waitFor(() => io.out().split('\n').length > 1, 10_000, 'the first line');
    const b = whaleItem({ alert_time: isoAt(now, -1_000), trade_id: 'b', side: 'sell' });
    await putAlerts(client, table, [b]);
    await waitFor(() => io.out().split('\n').length > 2, 10_000, 'the second line');
    child.kill('SIGTERM');
    expect(await io.exit).toBe(0);
    expect(
      io
        .out()
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([a, b]);
    expect(io.err()).toBe('');
  });

  it('ends cleanly (exit 0, nothing on stderr) when the reader goes away: | head -1', async () => {
    const table = await newAlertsTable(client);
    const now = Date.now();
    await putAlerts(client, table, [whaleItem({ alert_time: isoAt(now, -5_000), trade_id: 'first' })]);
    const quoted = [process.execPath, ...args(table)].map((a) => `'${a}'`).join(' ');
    const child = spawn('bash', ['-c', `set -o pipefail; ${quoted} | head -1`], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const io = collect(child);
    let exited = false;
    void io.exit.then(() => (exited = true));
    await waitFor(() => io.out().includes('\n'), 10_000, 'the line head prints');
    // The closed pipe shows at the next write: keep alerts coming until the pipeline ends.
    for (let i = 0; !exited && i < 100; i++) {
      await putAlerts(client, table, [whaleItem({ alert_time: isoAt(now, -4_000 + i), trade_id: `more${i}` })]);
      await Promise.race([io.exit, new Promise((r) => setTimeout(r, 100))]);
    }
    expect(await io.exit).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ alert_id: 'whale:binance:BTC-USDT:first' });
    expect(io.err()).toBe('');
  });
});
