/**
 * The alerts a demo run raised, read back from the local store: one Query per type on the
 * `by_type_time` index (never a Scan), every page.
 */
import { QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { ALERTS_BY_TYPE_TIME_INDEX, ALERT_TIME_KEY, ALERT_TYPE_KEY, ALERT_TYPES, type AlertType } from '../local/resources.js';
import { plainItem, type PlainItem } from '../watch/item.js';

function typeQuery(table: string, type: AlertType): QueryCommandInput {
  return {
    TableName: table,
    IndexName: ALERTS_BY_TYPE_TIME_INDEX,
    KeyConditionExpression: '#type = :type',
    ExpressionAttributeNames: { '#type': ALERT_TYPE_KEY },
    ExpressionAttributeValues: { ':type': { S: type } },
  };
}

/** Every alert of the type, oldest alert_time first, as plain values. */
export async function alertsOfType(client: DynamoDBClient, table: string, type: AlertType): Promise<PlainItem[]> {
  const items: PlainItem[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(new QueryCommand({ ...typeQuery(table, type), ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const item of out.Items ?? []) items.push(plainItem(item));
    start = out.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => String(a[ALERT_TIME_KEY]).localeCompare(String(b[ALERT_TIME_KEY])));
}

/** How many alerts of the type there are (the index counts them; no item is sent back). */
export async function countOfType(client: DynamoDBClient, table: string, type: AlertType): Promise<number> {
  let count = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(
      new QueryCommand({ ...typeQuery(table, type), Select: 'COUNT', ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return count;
}

export type AlertCounts = Record<AlertType, number>;

/** Seconds from `sinceMs` to the first alert written (its `written_at`), to a tenth; null when none was. */
export function firstAlertSeconds(items: readonly PlainItem[], sinceMs: number): number | null {
  let first: number | undefined;
  for (const item of items) {
    const written = typeof item.written_at === 'string' ? Date.parse(item.written_at) : NaN;
    if (!Number.isNaN(written) && (first === undefined || written < first)) first = written;
  }
  return first === undefined ? null : Math.round((first - sinceMs) / 100) / 10;
}

export async function countAlerts(client: DynamoDBClient, table: string): Promise<AlertCounts> {
  const counts = await Promise.all(ALERT_TYPES.map((t) => countOfType(client, table, t)));
  return Object.fromEntries(ALERT_TYPES.map((t, i) => [t, counts[i] ?? 0])) as AlertCounts;
}
