/** Reading a run's alerts back from a real DynamoDB-compatible store (the suite's dynalite). */
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoClient } from '../../src/aws/dynamodb.js';
import { alertsOfType, countAlerts, firstAlertSeconds } from '../../src/demo/alerts.js';
import { ensureAlertsTable } from '../../src/local/resources.js';

const table = `demo-alerts-${process.pid}-${Date.now()}`;
let client: DynamoDBClient;

async function put(item: Record<string, string>): Promise<void> {
  await client.send(
    new PutItemCommand({ TableName: table, Item: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { S: v }])) }),
  );
}

beforeAll(async () => {
  client = createDynamoClient({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1' }, {});
  await ensureAlertsTable(client, { tableName: table });
  // Written out of time order: the read gives them back oldest first.
  await put({
    alert_id: 'whale:binance:BTC-USDT:2',
    alert_type: 'whale',
    alert_time: '2026-01-01T00:00:02.000Z',
    written_at: '2026-01-01T00:00:04.000Z',
  });
  await put({
    alert_id: 'whale:coinbase:ETH-USDT:9',
    alert_type: 'whale',
    alert_time: '2026-01-01T00:00:01.000Z',
    written_at: '2026-01-01T00:00:02.500Z',
  });
  await put({ alert_id: 'spread:ETH-USDT:2026-01-01T00:00:00.000Z', alert_type: 'spread', alert_time: '2026-01-01T00:00:30.000Z' });
});

afterAll(() => client.destroy());

describe('the run’s alerts', () => {
  it('reads every alert of a type through the time index, oldest first', async () => {
    const whales = await alertsOfType(client, table, 'whale');
    expect(whales.map((w) => w.alert_id)).toEqual(['whale:coinbase:ETH-USDT:9', 'whale:binance:BTC-USDT:2']);
    expect(whales[0]).toMatchObject({ alert_type: 'whale', written_at: '2026-01-01T00:00:02.500Z' });
    expect(await alertsOfType(client, table, 'volume_anomaly')).toEqual([]);
  });

  it('says how long after a moment the first alert of a type was written', async () => {
    const open = Date.parse('2025-12-31T23:59:58.000Z');
    // The ETH whale landed first (00:00:02.5), 4.5 s after the open; the spread item has no written_at.
    expect(firstAlertSeconds(await alertsOfType(client, table, 'whale'), open)).toBe(4.5);
    expect(firstAlertSeconds(await alertsOfType(client, table, 'spread'), open)).toBeNull();
    expect(firstAlertSeconds([], open)).toBeNull();
  });

  it('counts each type', async () => {
    expect(await countAlerts(client, table)).toEqual({ whale: 2, volume_anomaly: 0, spread: 1 });
  });
});
