/**
 * Alert items as the jobs' writer puts them (jobs-py `alert_to_dynamo_item`, plus `written_at`), a fresh
 * alert table per test on the suite's dynalite, and a Query counter, for the `coattail watch` tests.
 */
import { randomUUID } from 'node:crypto';
import { PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '../../src/aws/dynamodb.js';
import { ensureAlertsTable } from '../../src/local/resources.js';

export type Plain = Record<string, string | number | boolean>;

/** A plain item in the low-level client's typed form. */
export function typed(item: Plain): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(item)) {
    out[k] = typeof v === 'string' ? { S: v } : typeof v === 'number' ? { N: String(v) } : { BOOL: v };
  }
  return out;
}

/** ISO-8601 UTC with ms, `ms` after `base`. */
export function isoAt(base: number, ms = 0): string {
  return new Date(base + ms).toISOString();
}

export function whaleItem(over: Partial<Plain> & { alert_time: string }): Plain {
  const exchange = (over.exchange as string | undefined) ?? 'binance';
  const symbol = (over.symbol as string | undefined) ?? 'BTC-USDT';
  const tradeId = (over.trade_id as string | undefined) ?? randomUUID().slice(0, 8);
  const eventId = `${exchange}:${symbol}:${tradeId}`;
  return {
    alert_id: `whale:${eventId}`,
    alert_type: 'whale',
    detected_at: over.alert_time,
    symbol,
    exchange,
    headline: `WHALE ${exchange} ${symbol}`,
    event_id: eventId,
    base_asset: symbol.split('-')[0] ?? 'BTC',
    quote_asset: symbol.split('-')[1] ?? 'USDT',
    trade_id: tradeId,
    price: 60000,
    quantity: 2.5,
    quote_volume: 150000,
    side: 'buy',
    trade_time: `${over.alert_time.slice(0, 23)}000Z`,
    threshold: 100000,
    threshold_multiple: 1.5,
    ...over,
  };
}

export function anomalyItem(over: Partial<Plain> & { alert_time: string }): Plain {
  const exchange = (over.exchange as string | undefined) ?? 'binance';
  const symbol = (over.symbol as string | undefined) ?? 'BTC-USDT';
  const end = over.alert_time;
  const start = new Date(Date.parse(end) - 60_000).toISOString();
  return {
    alert_id: `volume_anomaly:${exchange}:${symbol}:${start}`,
    alert_type: 'volume_anomaly',
    detected_at: end,
    symbol,
    exchange,
    headline: `VOLUME_ANOMALY ${exchange} ${symbol}`,
    window_start: `${start.slice(0, 23)}000Z`,
    window_end: `${end.slice(0, 23)}000Z`,
    total_quote_volume: 1500000,
    trade_count: 42,
    baseline_mean: 400000,
    baseline_std: 300000,
    baseline_windows: 12,
    z_score: 3.67,
    threshold: 2.5,
    ...over,
  };
}

export function spreadItem(over: Partial<Plain> & { alert_time: string }): Plain {
  const symbol = (over.symbol as string | undefined) ?? 'BTC-USDT';
  const end = over.alert_time;
  const start = new Date(Date.parse(end) - 30_000).toISOString();
  return {
    alert_id: `spread:${symbol}:${start}`,
    alert_type: 'spread',
    detected_at: end,
    symbol,
    exchange: 'binance',
    headline: `SPREAD ${symbol}`,
    window_start: `${start.slice(0, 23)}000Z`,
    window_end: `${end.slice(0, 23)}000Z`,
    high_exchange: 'binance',
    low_exchange: 'coinbase',
    high_vwap: 60360,
    low_vwap: 60000,
    spread_pct: 0.598,
    binance_trades: 120,
    coinbase_trades: 80,
    is_alert: true,
    threshold_pct: 0.5,
    ...over,
  };
}

export function dynamoClient(endpoint: string): DynamoDBClient {
  return createDynamoClient({ endpoint, region: 'us-east-1' }, {});
}

/** A new alert table (the real definition, ACTIVE) with a name no other test uses. */
export async function newAlertsTable(client: DynamoDBClient, prefix = 'watch'): Promise<string> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  await ensureAlertsTable(client, { tableName: name, intervalMs: 20 });
  return name;
}

export async function putAlerts(client: DynamoDBClient, table: string, items: Plain[]): Promise<void> {
  for (const item of items) await client.send(new PutItemCommand({ TableName: table, Item: typed(item) }));
}

/** Counts the requests of each command the client sends (QueryCommand, ScanCommand, ...). */
export function countRequests(client: DynamoDBClient): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counts.set(context.commandName ?? '?', (counts.get(context.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return counts;
}
