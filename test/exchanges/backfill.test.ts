/**
 * Gap backfill against a fake Binance (a real WebSocket server that skips ids on purpose) and a fake
 * REST server scripted per test: 429 with Retry-After, the 418 ban, 5xx, an unreachable host, a gap
 * too wide to fetch, a late live copy, a gap still open at stop. Expected trades are written by hand.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { binanceFeed } from '../../src/exchanges/binance/feed.js';
import { binanceHistory } from '../../src/exchanges/binance/rest.js';
import type { FeedSpec } from '../../src/exchanges/types.js';
import { runIngest, type IngestResult } from '../../src/ingest/pipeline.js';
import { StdoutSink } from '../../src/ingest/stdout-sink.js';
import { freePort } from '../../src/local/processes.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { Capture, captureLogger, waitFor, type LogRecord } from '../helpers/context.js';
import { closeServers, server } from '../helpers/ws-server.js';

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00.000Z
const price = (id: number): string => `${100 + id}.50000000`;
/** Trade `id` happened at T0 + id ms (and 123 µs, for the µs unit). */
const time = (id: number, us: boolean): number => (us ? (T0 + id) * 1000 + 123 : T0 + id);
const liveFrame = (id: number, us: boolean): string =>
  JSON.stringify({
    stream: 'btcusdt@trade',
    data: { e: 'trade', E: time(id, us), s: 'BTCUSDT', t: id, p: price(id), q: '0.20000000', T: time(id, us), m: id % 2 === 0, M: true },
  });
const restRow = (id: number, us: boolean) => ({
  id,
  price: price(id),
  qty: '0.20000000',
  quoteQty: '0',
  time: time(id, us),
  isBuyerMaker: id % 2 === 0,
  isBestMatch: true,
});

interface Hit {
  url: URL;
  at: number;
  headers: http.IncomingHttpHeaders;
}
type Script = (hit: Hit, n: number) => { status: number; headers?: Record<string, string>; body: unknown };

const restServers: http.Server[] = [];
async function restServer(script: Script): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  const srv = http.createServer((req, res) => {
    const hit = { url: new URL(req.url ?? '/', 'http://x'), at: Date.now(), headers: req.headers };
    hits.push(hit);
    const r = script(hit, hits.length);
    res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
    res.end(JSON.stringify(r.body));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  restServers.push(srv);
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, hits };
}

afterEach(async () => {
  await closeServers();
  await Promise.all(restServers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** The ids of Binance's history [fromId, fromId + limit) among `have`. */
function page(hit: Hit, have: (id: number) => boolean): unknown[] {
  const from = Number(hit.url.searchParams.get('fromId'));
  const limit = Number(hit.url.searchParams.get('limit'));
  const us = hit.headers['x-mbx-time-unit'] === 'MICROSECOND';
  const rows = [];
  for (let id = from; id < from + limit; id++) if (have(id)) rows.push(restRow(id, us));
  return rows;
}

async function run(
  ids: number[],
  restUrl: string,
  opts: {
    until: (out: Capture, logs: LogRecord[]) => boolean;
    what: string;
    backfill?: boolean;
    timeUnit?: 'ms' | 'us';
    settleMs?: number;
    gapDeadlineMs?: number;
    /** Live ids sent once `until` holds, and what to wait for then. */
    after?: { ids: number[]; until: (out: Capture) => boolean };
  },
): Promise<{ result: IngestResult; trades: UnifiedTrade[]; logs: LogRecord[] }> {
  let release: () => void = () => undefined;
  const later = new Promise<void>((r) => (release = r));
  const ws = await server((conn) => {
    for (const id of ids) conn.send(liveFrame(id, opts.timeUnit === 'us'));
    void later.then(() => {
      for (const id of opts.after?.ids ?? []) conn.send(liveFrame(id, opts.timeUnit === 'us'));
    });
  });
  const feed: FeedSpec = {
    ...binanceFeed({ baseUrl: ws.url, symbols: ['BTC-USDT'], timeUnit: opts.timeUnit ?? 'ms' }),
    ...(opts.backfill === false
      ? {}
      : {
          history: binanceHistory({
            restUrl,
            timeUnit: opts.timeUnit ?? 'ms',
            client: { backoff: { baseMs: 20, capMs: 50 }, requestTimeoutMs: 2_000 },
          }),
        }),
  };
  const out = new Capture();
  const { logger, records } = captureLogger('info');
  const abort = new AbortController();
  const done = runIngest(
    {
      feeds: [feed],
      statsIntervalMs: 0,
      shutdownTimeoutMs: 2_000,
      engine: { gapSettleMs: opts.settleMs ?? 100, watchdogIntervalMs: 20, backfill: { gapDeadlineMs: opts.gapDeadlineMs ?? 120_000 } },
    },
    new StdoutSink(out),
    {
      signal: abort.signal,
      logger,
    },
  );
  await waitFor(() => opts.until(out, records()), 15_000, opts.what);
  release();
  if (opts.after) await waitFor(() => opts.after!.until(out), 5_000, 'the live trades sent last');
  abort.abort();
  const result = await done;
  return { result, trades: out.lines().map((l) => JSON.parse(l) as UnifiedTrade), logs: records() };
}

const idsOf = (trades: UnifiedTrade[]): number[] => trades.map((t) => Number(t.trade_id)).sort((a, b) => a - b);
const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const stillMissing = (logs: LogRecord[]) => logs.find((r) => r.msg === 'trades still missing after backfill');

describe('gap backfill over REST', () => {
  it('fetches the missing ids and emits them as the live feed would have', async () => {
    const rest = await restServer((hit) => ({ status: 200, headers: { 'X-MBX-USED-WEIGHT-1M': '25' }, body: page(hit, () => true) }));
    const { result, trades } = await run([1, 2, 3, 10, 11], rest.url, { until: (o) => o.lines().length >= 11, what: '11 trades' });
    expect(idsOf(trades)).toEqual(range(1, 11));
    const t7 = trades.find((t) => t.trade_id === '7')!;
    // Hand-worked: 107.5 × 0.2 = 21.5; id 7 is odd → buyer was the taker; ms time T0 + 7.
    expect(t7).toMatchObject({
      event_id: 'binance:BTC-USDT:7',
      price: 107.5,
      quantity: 0.2,
      quote_volume: 21.5,
      side: 'buy',
      timestamp: '2026-01-01T00:00:00.007Z',
    });
    expect(trades.find((t) => t.trade_id === '8')!.side).toBe('sell');
    expect(rest.hits.map((h) => h.url.search)).toEqual(['?symbol=BTCUSDT&fromId=4&limit=6']);
    expect(rest.hits[0]!.headers['x-mbx-time-unit']).toBeUndefined();
    expect(result.summary).toMatchObject({ gaps: 1, backfilled: 6, missing_trades: 0, received: 11 });
  });

  it('waits the Retry-After of a 429, then fetches', async () => {
    const rest = await restServer((hit, n) =>
      n === 1
        ? { status: 429, headers: { 'Retry-After': '1' }, body: { code: -1003, msg: 'Too much request weight used' } }
        : { status: 200, body: page(hit, () => true) },
    );
    const { result } = await run([1, 5], rest.url, { until: (o) => o.lines().length >= 5, what: '5 trades' });
    expect(rest.hits).toHaveLength(2);
    expect(rest.hits[1]!.at - rest.hits[0]!.at).toBeGreaterThanOrEqual(990);
    expect(result.summary).toMatchObject({ backfilled: 3, missing_trades: 0 });
  });

  it('retries 5xx with backoff', async () => {
    const rest = await restServer((hit, n) =>
      n <= 2 ? { status: n === 1 ? 500 : 503, body: { msg: 'busy' } } : { status: 200, body: page(hit, () => true) },
    );
    const { result } = await run([1, 5], rest.url, { until: (o) => o.lines().length >= 5, what: '5 trades' });
    expect(rest.hits).toHaveLength(3);
    expect(result.summary).toMatchObject({ backfilled: 3, missing_trades: 0 });
  });

  it('gives up at once on a 418 ban longer than the gap may wait: counted, ranges logged', async () => {
    const rest = await restServer(() => ({ status: 418, headers: { 'Retry-After': '3600' }, body: { code: -1003, msg: 'IP banned' } }));
    const { result, logs } = await run([1, 2, 9], rest.url, { until: (_o, l) => stillMissing(l) !== undefined, what: 'the give-up' });
    expect(rest.hits).toHaveLength(1);
    expect(stillMissing(logs)).toMatchObject({ level: 'warn', symbol: 'BTC-USDT', missing: 6, ranges: '3-8' });
    expect(String(stillMissing(logs)!.why)).toContain('asks to wait');
    expect(result.summary).toMatchObject({ gaps: 1, backfilled: 0, missing_trades: 6 });
  });

  it('emits what the exchange returns and counts the rest, by range', async () => {
    const rest = await restServer((hit) => ({ status: 200, body: page(hit, (id) => id !== 5 && id !== 6 && id !== 8) }));
    const { result, trades, logs } = await run([1, 10], rest.url, {
      until: (_o, l) => stillMissing(l) !== undefined,
      what: 'the partial backfill',
    });
    expect(idsOf(trades)).toEqual([1, 2, 3, 4, 7, 9, 10]);
    expect(stillMissing(logs)).toMatchObject({ missing: 3, ranges: '5-6,8' });
    expect(result.summary).toMatchObject({ backfilled: 5, missing_trades: 3 });
  });

  it('does not fetch a gap wider than 10000 trades', async () => {
    const rest = await restServer((hit) => ({ status: 200, body: page(hit, () => true) }));
    const { result, logs } = await run([1, 20_002], rest.url, { until: (_o, l) => stillMissing(l) !== undefined, what: 'the give-up' });
    expect(rest.hits).toHaveLength(0);
    expect(stillMissing(logs)).toMatchObject({ missing: 20_000, ranges: '2-20001' });
    expect(String(stillMissing(logs)!.why)).toContain('more than the 10000');
    expect(result.summary).toMatchObject({ backfilled: 0, missing_trades: 20_000 });
  });

  it('fails fast against an unreachable REST endpoint, and counts', async () => {
    // A port that was free a moment ago: nothing listens there, the connection is refused.
    const port = await freePort();
    const started = Date.now();
    const { result, logs } = await run([1, 4], `http://127.0.0.1:${port}`, {
      until: (_o, l) => stillMissing(l) !== undefined,
      what: 'the give-up',
    });
    expect(Date.now() - started).toBeLessThan(10_000);

    expect(String(stillMissing(logs)!.why)).toContain('ECONNREFUSED');
    expect(result.summary).toMatchObject({ backfilled: 0, missing_trades: 2 });
  });

  it('drops a late live copy of a backfilled trade', async () => {
    const rest = await restServer((hit) => ({ status: 200, body: page(hit, () => true) }));
    const { result, trades } = await run([1, 5], rest.url, {
      until: (o) => o.lines().length >= 5,
      after: { ids: [3, 6], until: (o) => o.lines().length >= 6 },
      what: '5 trades',
    });
    expect(idsOf(trades)).toEqual(range(1, 6));
    expect(result.summary).toMatchObject({ backfilled: 3, duplicates: 1, missing_trades: 0 });
  });

  it('with backfill off, only counts the gap (and asks nothing)', async () => {
    const rest = await restServer((hit) => ({ status: 200, body: page(hit, () => true) }));
    const { result, trades, logs } = await run([1, 5, 6], rest.url, {
      backfill: false,
      until: (_o, l) => l.some((r) => r.msg === 'trade-id gap: trades missed'),
      what: 'the gap',
    });
    expect(idsOf(trades)).toEqual([1, 5, 6]);
    expect(rest.hits).toHaveLength(0);
    expect(logs.find((r) => r.msg === 'trade-id gap: trades missed')).toMatchObject({ from: 2, to: 4, missing: 3 });
    expect(result.summary).toMatchObject({ gaps: 1, backfilled: 0, missing_trades: 3 });
  });

  it('backfills a gap still open when the run stops, before the summary', async () => {
    const rest = await restServer((hit) => ({ status: 200, body: page(hit, () => true) }));
    // The gap would settle only after a minute: the stop confirms it and fetches it.
    const { result, trades } = await run([1, 5], rest.url, { settleMs: 60_000, until: (o) => o.lines().length >= 2, what: '2 trades' });
    expect(idsOf(trades)).toEqual(range(1, 5));
    expect(result.summary).toMatchObject({ gaps: 1, backfilled: 3, missing_trades: 0 });
  });

  it('asks Binance for µs when the stream gives µs, so a backfilled trade has the live precision', async () => {
    const rest = await restServer((hit) => ({ status: 200, body: page(hit, () => true) }));
    const { result, trades } = await run([1, 5], rest.url, { timeUnit: 'us', until: (o) => o.lines().length >= 5, what: '5 trades' });
    expect(rest.hits[0]!.headers['x-mbx-time-unit']).toBe('MICROSECOND');
    // Live and backfilled alike: T0 + id ms and 123 µs.
    expect(trades.find((t) => t.trade_id === '1')!.timestamp).toBe('2026-01-01T00:00:00.001123Z');
    expect(trades.find((t) => t.trade_id === '3')!.timestamp).toBe('2026-01-01T00:00:00.003123Z');
    expect(result.summary).toMatchObject({ backfilled: 3, missing_trades: 0 });
  });

  it('keeps under the weight budget: past 5000 used this minute, the next page waits for the next minute', async () => {
    const rest = await restServer((hit) => ({ status: 200, headers: { 'X-MBX-USED-WEIGHT-1M': '4990' }, body: page(hit, () => true) }));
    const { result, logs } = await run([1, 1501], rest.url, {
      gapDeadlineMs: 1_000,
      until: (_o, l) => stillMissing(l) !== undefined || l.some((r) => r.msg === 'trade-id gap backfilled over REST'),
      what: 'the backfill to end',
    });
    const firstMinute = Math.floor(rest.hits[0]!.at / 60_000);
    if (rest.hits.length === 1) {
      // Gap 2..1500: the first page (2..1001) is kept; the second would wait past the gap's 1 s: given up.
      expect(stillMissing(logs)).toMatchObject({ missing: 499, ranges: '1002-1500' });
      expect(String(stillMissing(logs)!.why)).toContain('asks to wait');
      expect(result.summary).toMatchObject({ backfilled: 1000, missing_trades: 499 });
    } else {
      // The minute turned within that second: the second page came in the next one.
      expect(Math.floor(rest.hits[1]!.at / 60_000)).toBe(firstMinute + 1);
    }
  });
});
