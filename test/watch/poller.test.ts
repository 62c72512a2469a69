import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { WatchAlert } from '../../src/watch/alerts.js';
import { AlertPoller, type AlertPollerOptions } from '../../src/watch/poller.js';
import { captureLogger } from '../helpers/context.js';
import { anomalyItem, countRequests, dynamoClient, isoAt, newAlertsTable, putAlerts, spreadItem, whaleItem } from '../helpers/watch.js';

const NOW = Date.parse('2024-05-01T12:00:00.000Z');
const SINCE_15M = NOW - 15 * 60_000;

let client: DynamoDBClient;
let queries: Map<string, number>;

beforeAll(() => {
  client = dynamoClient(inject('dynamoEndpoint'));
  queries = countRequests(client);
});
afterAll(() => client.destroy());

function poller(table: string, over: Partial<AlertPollerOptions> = {}): AlertPoller {
  return new AlertPoller({ client, table, type: 'whale', sinceMs: SINCE_15M, ...over });
}

/** One poll; the ids delivered, in delivery order. */
async function pollIds(p: AlertPoller): Promise<string[]> {
  const got: WatchAlert[] = [];
  await p.poll((alerts) => {
    got.push(...alerts);
  });
  return got.map((a) => a.alert_id);
}

describe('AlertPoller against dynalite', () => {
  it('delivers alerts oldest first, each once, including alerts that share the cursor time', async () => {
    const table = await newAlertsTable(client);
    const t1 = isoAt(NOW, -30_000);
    const t2 = isoAt(NOW, -20_000);
    const t3 = isoAt(NOW, -10_000);
    // Put out of time order: delivery must follow alert_time, not write order.
    await putAlerts(client, table, [
      whaleItem({ alert_time: t3, trade_id: 'c' }),
      whaleItem({ alert_time: t1, trade_id: 'a' }),
      whaleItem({ alert_time: t2, trade_id: 'b' }),
    ]);
    const p = poller(table);
    expect(await pollIds(p)).toEqual(['whale:binance:BTC-USDT:a', 'whale:binance:BTC-USDT:b', 'whale:binance:BTC-USDT:c']);
    expect(await pollIds(p)).toEqual([]);

    // Two more at exactly the newest time seen (the cursor), and one later: all new, none repeated.
    await putAlerts(client, table, [
      whaleItem({ alert_time: t3, trade_id: 'c2' }),
      whaleItem({ alert_time: t3, trade_id: 'c3' }),
      whaleItem({ alert_time: isoAt(NOW, -5_000), trade_id: 'd' }),
    ]);
    const next = await pollIds(p);
    expect(next.slice(0, 2).sort()).toEqual(['whale:binance:BTC-USDT:c2', 'whale:binance:BTC-USDT:c3']);
    expect(next[2]).toBe('whale:binance:BTC-USDT:d');
    expect(next).toHaveLength(3);
    expect(await pollIds(p)).toEqual([]);
    expect(p.stats()).toMatchObject({ delivered: 6, unparsable: 0, filtered: 0 });
  });

  it('picks up an alert written late with an older alert_time, within the look-back only', async () => {
    const table = await newAlertsTable(client);
    await putAlerts(client, table, [whaleItem({ alert_time: isoAt(NOW, -1_000), trade_id: 'new' })]);
    const p = poller(table, { latenessMs: 60_000 });
    expect(await pollIds(p)).toEqual(['whale:binance:BTC-USDT:new']);
    await putAlerts(client, table, [
      whaleItem({ alert_time: isoAt(NOW, -50_000), trade_id: 'late' }), // 49 s before the newest: read
      whaleItem({ alert_time: isoAt(NOW, -70_000), trade_id: 'too-late' }), // 69 s before: below the floor
    ]);
    expect(await pollIds(p)).toEqual(['whale:binance:BTC-USDT:late']);
    expect(p.floor()).toBe(isoAt(NOW, -61_000));
  });

  it('respects --since, --symbols and --min-usd, and counts what it leaves out', async () => {
    const table = await newAlertsTable(client);
    await putAlerts(client, table, [
      whaleItem({ alert_time: isoAt(SINCE_15M, -1), trade_id: 'before-since' }),
      whaleItem({ alert_time: isoAt(SINCE_15M), trade_id: 'at-since' }),
      whaleItem({ alert_time: isoAt(NOW, -60_000), trade_id: 'eth', symbol: 'ETH-USDT', quote_volume: 500_000 }),
      whaleItem({ alert_time: isoAt(NOW, -50_000), trade_id: 'sol', symbol: 'SOL-USDT', quote_volume: 900_000 }),
      whaleItem({ alert_time: isoAt(NOW, -40_000), trade_id: 'small', quote_volume: 249_999.99 }),
      whaleItem({ alert_time: isoAt(NOW, -30_000), trade_id: 'edge', quote_volume: 250_000 }),
    ]);
    expect(await pollIds(poller(table))).toEqual([
      'whale:binance:BTC-USDT:at-since',
      'whale:binance:ETH-USDT:eth',
      'whale:binance:SOL-USDT:sol',
      'whale:binance:BTC-USDT:small',
      'whale:binance:BTC-USDT:edge',
    ]);
    const filtered = poller(table, { symbols: ['BTC-USDT', 'ETH-USDT'], minUsd: 250_000 });
    expect(await pollIds(filtered)).toEqual(['whale:binance:ETH-USDT:eth', 'whale:binance:BTC-USDT:edge']);
    // at-since, sol and small are read and left out; before-since is never read (the query's floor).
    expect(filtered.stats()).toMatchObject({ itemsRead: 5, delivered: 2, filtered: 3 });
  });

  it('applies --min-usd to an anomaly window volume', async () => {
    const table = await newAlertsTable(client);
    await putAlerts(client, table, [
      anomalyItem({ alert_time: isoAt(NOW, -120_000), symbol: 'BTC-USDT', total_quote_volume: 2_000_000 }),
      anomalyItem({ alert_time: isoAt(NOW, -60_000), symbol: 'ETH-USDT', total_quote_volume: 900_000 }),
    ]);
    const p = poller(table, { type: 'volume_anomaly', minUsd: 1_000_000 });
    const ids = await pollIds(p);
    expect(ids).toEqual([`volume_anomaly:binance:BTC-USDT:${isoAt(NOW, -180_000)}`]);
  });

  it('reads only its own alert type, with Query on the time index and never a Scan', async () => {
    const table = await newAlertsTable(client);
    await putAlerts(client, table, [
      whaleItem({ alert_time: isoAt(NOW, -3_000), trade_id: 'w' }),
      spreadItem({ alert_time: isoAt(NOW, -2_000) }),
      anomalyItem({ alert_time: isoAt(NOW, -1_000) }),
    ]);
    const scansBefore = queries.get('ScanCommand') ?? 0;
    const queriesBefore = queries.get('QueryCommand') ?? 0;
    expect(await pollIds(poller(table))).toEqual(['whale:binance:BTC-USDT:w']);
    expect(await pollIds(poller(table, { type: 'spread' }))).toEqual([`spread:BTC-USDT:${isoAt(NOW, -32_000)}`]);
    expect((queries.get('QueryCommand') ?? 0) - queriesBefore).toBe(2);
    expect(queries.get('ScanCommand') ?? 0).toBe(scansBefore);
  });

  it('follows LastEvaluatedKey past the page Limit', async () => {
    const table = await newAlertsTable(client);
    const items = Array.from({ length: 7 }, (_, i) => whaleItem({ alert_time: isoAt(NOW, -60_000 + i * 1_000), trade_id: `p${i}` }));
    await putAlerts(client, table, [...items].reverse());
    const before = queries.get('QueryCommand') ?? 0;
    const seenPages: number[] = [];
    const p = poller(table, { pageLimit: 3 });
    await p.poll((alerts) => {
      seenPages.push(alerts.length);
    });
    // 7 items at 3 a page: pages of 3, 3 and 1 (the last without LastEvaluatedKey).
    expect(seenPages).toEqual([3, 3, 1]);
    expect((queries.get('QueryCommand') ?? 0) - before).toBe(3);
    expect(p.stats().delivered).toBe(7);
  });

  it('follows LastEvaluatedKey past the 1 MB page size', async () => {
    const table = await newAlertsTable(client);
    // Four items of ~300 KB: DynamoDB (and dynalite) end a page once it reaches 1 MB.
    const padding = 'x'.repeat(300 * 1024);
    const items = Array.from({ length: 4 }, (_, i) =>
      whaleItem({ alert_time: isoAt(NOW, -10_000 + i), trade_id: `big${i}`, headline: padding }),
    );
    await putAlerts(client, table, items);
    const before = queries.get('QueryCommand') ?? 0;
    const p = poller(table);
    expect(await pollIds(p)).toEqual(items.map((i) => i.alert_id));
    expect((queries.get('QueryCommand') ?? 0) - before).toBeGreaterThanOrEqual(2);
  });

  it('skips and counts an item that does not parse, logs why at debug level, and goes on', async () => {
    const table = await newAlertsTable(client);
    await putAlerts(client, table, [
      whaleItem({ alert_time: isoAt(NOW, -3_000), trade_id: 'ok1' }),
      whaleItem({ alert_time: isoAt(NOW, -2_000), trade_id: 'bad-side', side: 'sideways' }),
      whaleItem({ alert_time: isoAt(NOW, -1_500), trade_id: 'bad-price', price: 'sixty thousand' }),
      whaleItem({ alert_time: isoAt(NOW, -1_000), trade_id: 'ok2' }),
    ]);
    const { logger, records } = captureLogger('debug');
    const p = poller(table, { logger });
    expect(await pollIds(p)).toEqual(['whale:binance:BTC-USDT:ok1', 'whale:binance:BTC-USDT:ok2']);
    expect(await pollIds(p)).toEqual([]); // read again in the look-back, counted once
    expect(p.stats()).toMatchObject({ unparsable: 2, delivered: 2 });
    const skips = records().filter((r) => r.msg === 'alert skipped: not a valid alert');
    expect(skips.map((r) => [r.level, r.alert_id, r.reason])).toEqual([
      ['debug', 'whale:binance:BTC-USDT:bad-side', expect.stringMatching(/^side: /)],
      ['debug', 'whale:binance:BTC-USDT:bad-price', expect.stringMatching(/^price: /)],
    ]);
  });

  it('never delivers twice when more alerts arrive than its dedupe set holds', async () => {
    const table = await newAlertsTable(client);
    await putAlerts(
      client,
      table,
      [1, 2, 3, 4].map((i) => whaleItem({ alert_time: isoAt(NOW, -10_000 + i * 1_000), trade_id: `s${i}` })),
    );
    const { logger, records } = captureLogger('debug');
    const p = poller(table, { seenCapacity: 2, logger });
    expect(await pollIds(p)).toHaveLength(4);
    expect(await pollIds(p)).toEqual([]);
    // s1 and s2 were forgotten: the floor moved just past s2 (-8 s), so they are not read again.
    expect(p.floor()).toBe(isoAt(NOW, -8_000 + 1));
    expect(records().some((r) => r.level === 'warn')).toBe(true);
  });
});
