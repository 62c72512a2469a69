/**
 * The whole local pipeline, for real: `coattail demo` (in-process, headless, --json) on the scripted
 * scenario, through the Kinesis emulator, the four streaming jobs in local Spark, dynalite and a local
 * Iceberg warehouse. The expected alerts and row counts are worked out below from scenarios/scripted.json
 * by hand; the simulator's recording (the printed trades) gives the whales' trade ids.
 *
 * The scenario runs with --align 10: its second 10 falls on a whole minute B, so
 *   market seconds  0..10  → the 60-s window [B-60s, B) (10 s of trades, plus Coinbase's last_match)
 *                  10..70  → [B, B+60s)        70..130 → [B+60s, B+120s)     130..145 → [B+120s, B+180s)
 * and the 30-s windows start at B-30s, B, B+30s, B+60s, B+90s, B+120s. The last trade is at second 145
 * (B+135s), so with a 10-second watermark every window ending by B+125s is emitted and no later one.
 *
 * - Whales (threshold 100,000, strict): seconds 3, 20, 35, 60, 100 and 138: six. Second 50's 99,990 is none.
 * - Spread: Coinbase ETH-USDT 1.5 % above the market over seconds 10..40 = exactly the window [B, B+30s):
 *   one alert, Coinbase high. Elsewhere the exchanges differ by hundredths of a percent (< 0.5 %).
 * - Volume anomaly (min_periods 2, threshold 2.5): BTC-USDT ×8 on both exchanges over seconds 70..130 =
 *   exactly [B+60s, B+120s). Its baseline is the two windows before (a short one and a full one), and
 *   at 40 trades/s an 8× window is about ten standard deviations out: two alerts, one per exchange. No
 *   other window has two baseline windows before it except that same [B+60s, B+120s) of the other
 *   symbols, which stays near its mean (the whales there are in the windows before it).
 * - Faults: at second 90, in the middle of the spike, both exchanges cut every connection and refuse new
 *   ones for a second. The ingest reconnects (at least once per exchange), sees the trades printed
 *   meanwhile as gaps (over a second of market: at least the 40 trades/s base rate) and fetches them from
 *   the simulator's REST side: none is missing. None of the alerts above moves: the backfilled trades
 *   come within the watermark, and no whale, dislocation or window boundary falls in that second.
 * - Rows: volume_aggregates = 3 emitted windows × 3 symbols × 2 exchanges = 18; spreads = 5 emitted
 *   30-s windows × 3 symbols = 15; whale_trades = 6; anomalies = 2; alerts = 6 + 1 + 2 = 9;
 *   raw_trades = every trade delivered to Kinesis.
 */
import { QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../src/aws/dynamodb.js';
import { demo, type DemoStoreEnv, type DemoSummary } from '../../src/commands/demo/demo.js';
import { createLogger } from '../../src/core/logger.js';
import { testContext } from '../helpers/context.js';
import { BIN } from '../helpers/paths.js';
import {
  anomalyAlertIds,
  emittedByEnd,
  spreadAlerts,
  spreadWindows,
  volumeWindows,
  whaleAlertIds,
  type RecordedTrade,
} from '../helpers/market-oracle.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'coattail-demo-e2e-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Item = Record<string, string | number>;

/** Every alert of a type, read with the test's own Query on the time index. */
async function readType(env: DemoStoreEnv, type: string): Promise<Item[]> {
  const client = createDynamoClient({ endpoint: env.dynamodbEndpoint, region: env.region }, {});
  const items: Item[] = [];
  try {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await client.send(
        new QueryCommand({
          TableName: env.alertsTable,
          IndexName: 'by_type_time',
          KeyConditionExpression: 'alert_type = :t',
          ExpressionAttributeValues: { ':t': { S: type } },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const raw of out.Items ?? []) {
        items.push(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.S ?? (v.N !== undefined ? Number(v.N) : String(v.BOOL))])));
      }
      start = out.LastEvaluatedKey;
    } while (start);
  } finally {
    client.destroy();
  }
  return items;
}

interface Printed {
  exchange: string;
  symbol: string;
  tradeId: number;
  price: string;
  size: string;
  takerSide: string;
}

// The scenario's whale events, by hand: [exchange, symbol, side, quoteVolume].
const WHALES: Array<[string, string, string, number]> = [
  ['binance', 'BTC-USDT', 'buy', 150_000],
  ['coinbase', 'ETH-USDT', 'sell', 250_000],
  ['binance', 'SOL-USDT', 'buy', 120_000],
  ['coinbase', 'BTC-USDT', 'buy', 500_000],
  ['binance', 'BTC-USDT', 'sell', 180_000],
  ['binance', 'ETH-USDT', 'sell', 180_000],
];
const NEAR_MISS: [string, string, string, number] = ['coinbase', 'SOL-USDT', 'buy', 99_990];

/** The printed trade a scripted whale became: price × size is at least the target, within 0.01 %. */
function printedWhale(printed: readonly Printed[], [exchange, symbol, side, q]: [string, string, string, number]): Printed {
  const found = printed.filter(
    (t) =>
      t.exchange === exchange &&
      t.symbol === symbol &&
      t.takerSide === side &&
      Number(t.price) * Number(t.size) >= q * 0.999999 &&
      Number(t.price) * Number(t.size) <= q * 1.0001,
  );
  expect(found, `${exchange} ${symbol} ${side} ${q}`).toHaveLength(1);
  return found[0]!;
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe('coattail demo end to end', () => {
  it(
    'the scripted scenario through the real local stack gives exactly the alerts and rows it implies',
    async () => {
      const record = path.join(tmp, 'market.jsonl');
      const ctx = testContext({ cwd: path.resolve('.'), logger: createLogger(process.stderr, { level: 'info' }) });
      const store: Record<string, Item[]> = {};
      const code = await demo(
        {
          headless: true,
          json: true,
          scenario: 'scripted',
          align: '10',
          watermark: '10s',
          set: ['volume-anomaly:min_periods=2'],
          dir: path.join(tmp, 'demo'),
          fresh: true,
          record,
          drainTimeout: '240',
        },
        ctx,
        {
          beforeStop: async (env) => {
            for (const type of ['whale', 'spread', 'volume_anomaly']) store[type] = await readType(env, type);
          },
        },
      );
      expect(code).toBe(0);
      const summary = JSON.parse(ctx.out.text()) as DemoSummary;
      // First, as everything below assumes it: no trade reached a job behind its 10-s watermark.
      expect(summary.late_rows_dropped).toEqual({ 'raw-archiver': 0, 'volume-anomaly': 0, 'whale-detector': 0, 'spread-calculator': 0 });

      // B: the whole minute the market's second 10 fell on.
      const B = Math.round((Date.parse(summary.market_started_at) + 10_000) / 60_000) * 60_000;
      expect(Math.abs(Date.parse(summary.market_started_at) + 10_000 - B)).toBeLessThan(1_000);

      // Whales: ids from the simulator's recording, everything else from the scenario.
      const printed = readFileSync(record, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Printed);
      const nearMiss = printedWhale(printed, NEAR_MISS);
      expect(Number(nearMiss.price) * Number(nearMiss.size)).toBeLessThan(100_000);
      const expectedWhales = WHALES.map((w) => {
        const t = printedWhale(printed, w);
        return {
          alert_id: `whale:${t.exchange}:${t.symbol}:${t.tradeId}`,
          exchange: t.exchange,
          symbol: t.symbol,
          side: t.takerSide,
          notional: Number(t.price) * Number(t.size),
        };
      });
      const whales = store.whale ?? [];
      expect(whales.map((w) => w.alert_id).sort()).toEqual(expectedWhales.map((w) => w.alert_id).sort());
      for (const e of expectedWhales) {
        const got = whales.find((w) => w.alert_id === e.alert_id)!;
        expect(got).toMatchObject({ exchange: e.exchange, symbol: e.symbol, side: e.side });
        expect(Number(got.quote_volume)).toBeCloseTo(e.notional, 4);
        expect(typeof got.written_at).toBe('string');
      }

      expect((store.spread ?? []).map((s) => ({ id: s.alert_id, exchange: s.exchange, at: s.alert_time }))).toEqual([
        { id: `spread:ETH-USDT:${iso(B)}`, exchange: 'coinbase', at: iso(B + 30_000) },
      ]);
      expect((store.volume_anomaly ?? []).map((a) => a.alert_id).sort()).toEqual([
        `volume_anomaly:binance:BTC-USDT:${iso(B + 60_000)}`,
        `volume_anomaly:coinbase:BTC-USDT:${iso(B + 60_000)}`,
      ]);

      expect(summary.alerts).toEqual({ whale: 6, volume_anomaly: 2, spread: 1 });
      expect(summary.latency_ms.count).toBe(6);
      expect(summary.failed_queries).toEqual([]);
      // The connections cut at second 90: reconnected, the second of trades missed seen as gaps and backfilled.
      expect(summary.feeds.reconnects).toBeGreaterThanOrEqual(2);
      expect(summary.feeds.gaps).toBeGreaterThanOrEqual(2);
      expect(summary.feeds.backfilled).toBeGreaterThanOrEqual(40);
      expect(summary.feeds.missing_trades).toBe(0);
      expect(summary.feeds).toMatchObject({ malformed_frames: 0, invalid_trades: 0 });
      // Every printed trade reached Kinesis, but the few printed before the ingest connected; plus
      // Coinbase's three last_match trades (the recording starts with the six pre-session trades, one per stream).
      const session = printed.length - 6;
      expect(summary.trades_in).toBeLessThanOrEqual(session + 3);
      expect(summary.trades_in).toBeGreaterThan(session - 30);
      expect(summary.rows).toEqual({
        raw_trades: summary.trades_in,
        volume_aggregates: 18,
        anomalies: 2,
        whale_trades: 6,
        spreads: 15,
        alerts: 9,
      });
    },
    20 * 60_000,
  );

  /**
   * The default demo, as `coattail demo --headless --duration 180 --json` runs it: no option but the
   * folder and the recording. Every alert it raised is checked against what the recorded trades imply
   * (test/helpers/market-oracle.ts) under the jobs' default rules: whales strictly above 100,000,
   * anomalies with min_periods 10 and z > 2.5, spreads strictly above 0.5 %.
   *
   * Its own run, not the scripted one's: only the default scenario has the history that gives the default
   * rules their baselines, and only a run with no option proves what `make demo` does; the scripted run's
   * exact expectations need its --align, --watermark and --set. Its 180 s is what it needs too: the spike
   * (session seconds 5..35) may close in a window ending as late as second 95, emitted 30 s of watermark later.
   */
  it(
    'the default 3-minute demo raises whales, volume anomalies and spreads, each as the printed trades imply',
    async () => {
      const record = path.join(tmp, 'default.jsonl');
      const ctx = testContext({ cwd: path.resolve('.'), logger: createLogger(process.stderr, { level: 'info' }) });
      const store: Record<string, Item[]> = {};
      const dir = path.join(tmp, 'default');
      let tailed: Array<{ event_id: string; price: number; quantity: number; side: string }> = [];
      const code = await demo({ headless: true, json: true, duration: '180', dir, fresh: true, record, drainTimeout: '240' }, ctx, {
        beforeStop: async (env) => {
          for (const type of ['whale', 'spread', 'volume_anomaly']) store[type] = await readType(env, type);
          // What an operator sees with `coattail tail --local` pointed at the demo's folder: the stream, read back whole.
          const { stdout } = await promisify(execFile)(
            process.execPath,
            [BIN, 'tail', '--local', '--state-dir', dir, '--from', 'trim-horizon', '--exit-at-end', '--json'],
            { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
          );
          tailed = stdout
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as (typeof tailed)[number]);
        },
      });
      expect(code).toBe(0);
      const summary = JSON.parse(ctx.out.text()) as DemoSummary;
      expect(summary.scenario).toBe('default');
      expect(summary.failed_queries).toEqual([]);
      expect(summary.late_rows_dropped).toEqual({ 'raw-archiver': 0, 'volume-anomaly': 0, 'whale-detector': 0, 'spread-calculator': 0 });
      // The market waits for the ingest, so nothing is missed (the history included) but the second of
      // trades both exchanges' cut at second 30 hid: seen as gaps and fetched back over REST, none missing.
      expect(summary.feeds).toMatchObject({ missing_trades: 0, malformed_frames: 0, invalid_trades: 0 });
      expect(summary.feeds.reconnects).toBeGreaterThanOrEqual(2);
      expect(summary.feeds.gaps).toBeGreaterThanOrEqual(2);
      expect(summary.feeds.backfilled).toBeGreaterThanOrEqual(10);

      // What reached the jobs: every printed trade but Binance's pre-session ones (Binance has no
      // last_match) and those printed after the ingest stopped, which lie beyond every emitted window.
      const printed = readFileSync(record, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as RecordedTrade);
      const trades = [...printed.slice(0, 6).filter((t) => t.exchange === 'coinbase'), ...printed.slice(6)];
      // The history: twelve minutes of trades before the session, so the baselines exist at the open.
      const opened = Date.parse(summary.market_started_at);
      expect(trades.filter((t) => t.timeMs < opened - 600_000).length).toBeGreaterThan(1_000);
      expect(summary.trades_in).toBeGreaterThan(14_400);
      expect(summary.rows.raw_trades).toBe(summary.trades_in);
      // `coattail tail --local` printed every trade the demo ingested, once each, as the simulator printed it.
      expect(tailed).toHaveLength(summary.trades_in);
      const byId = new Map(trades.map((t) => [`${t.exchange}:${t.symbol}:${t.tradeId}`, t]));
      expect(new Set(tailed.map((t) => t.event_id)).size).toBe(tailed.length);
      for (const t of tailed) {
        const p = byId.get(t.event_id);
        expect(p, t.event_id).toBeDefined();
        expect([t.price, t.quantity, t.side]).toEqual([Number(p!.price), Number(p!.size), p!.takerSide]);
      }

      const whales = whaleAlertIds(trades, 100_000);
      expect((store.whale ?? []).map((w) => w.alert_id).sort()).toEqual(whales.sort());

      const volume = emittedByEnd(volumeWindows(trades), summary.rows.volume_aggregates ?? -1);
      expect(volume, 'the emitted volume windows are the earliest-ending ones').toBeDefined();
      const anomalies = anomalyAlertIds(volume!, { minPeriods: 10, threshold: 2.5 });
      expect((store.volume_anomaly ?? []).map((a) => a.alert_id).sort()).toEqual(anomalies);
      expect(summary.rows.anomalies).toBe(anomalies.length);

      const spreadRows = emittedByEnd(spreadWindows(trades), summary.rows.spreads ?? -1);
      expect(spreadRows, 'the emitted spread windows are the earliest-ending ones').toBeDefined();
      const spreads = spreadAlerts(spreadRows!, 0.5);
      const gotSpreads = (store.spread ?? []).map((s) => ({ id: String(s.alert_id), exchange: String(s.exchange) }));
      expect(gotSpreads.sort((a, b) => a.id.localeCompare(b.id))).toEqual(spreads);

      // All three kinds, the scripted ones among them: the BTC-USDT spike and the ETH-USDT dislocation
      // on Coinbase in the session's first minute.
      expect(whales.length).toBeGreaterThanOrEqual(3);
      expect(anomalies.filter((id) => id.includes(':BTC-USDT:')).length).toBeGreaterThanOrEqual(2);
      expect(spreads.filter((s) => s.id.startsWith('spread:ETH-USDT:') && s.exchange === 'coinbase').length).toBeGreaterThanOrEqual(1);
      expect(summary.alerts).toEqual({ whale: whales.length, volume_anomaly: anomalies.length, spread: spreads.length });
      for (const type of ['whale', 'volume_anomaly', 'spread'] as const) expect(summary.first_alert_s[type]).not.toBeNull();
    },
    20 * 60_000,
  );
});
