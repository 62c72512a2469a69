/**
 * The stream and the alert table the pipeline needs, created if missing and awaited until ACTIVE.
 * The alert table's names live here, once, for the jobs' writers and `coattail watch`.
 */
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { CoattailError } from '../core/errors.js';
import { sleep } from '../core/backoff.js';

/** Alerts from every job; written with `attribute_not_exists(alert_id)` so a replayed batch writes nothing twice. */
export const ALERTS_TABLE = 'coattail-alerts';
export const ALERT_ID_KEY = 'alert_id';
/** "Newest alerts of a type" is one Query on this index with ScanIndexForward=false, never a Scan. */
export const ALERTS_BY_TYPE_TIME_INDEX = 'by_type_time';
export const ALERT_TYPE_KEY = 'alert_type';
/** ISO-8601 UTC, so string order is time order. */
export const ALERT_TIME_KEY = 'alert_time';
export const ALERT_TYPES = ['whale', 'volume_anomaly', 'spread'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

/** Every table `coattail local up` creates. */
export const LOCAL_TABLES: readonly string[] = [ALERTS_TABLE];

export function alertsTableDefinition(tableName: string = ALERTS_TABLE): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: ALERT_ID_KEY, AttributeType: 'S' },
      { AttributeName: ALERT_TYPE_KEY, AttributeType: 'S' },
      { AttributeName: ALERT_TIME_KEY, AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: ALERT_ID_KEY, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: ALERTS_BY_TYPE_TIME_INDEX,
        KeySchema: [
          { AttributeName: ALERT_TYPE_KEY, KeyType: 'HASH' },
          { AttributeName: ALERT_TIME_KEY, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

/** Calls `check` until it returns a value, or throws `onTimeout()` once the time is up. */
async function pollUntil<T>(check: () => Promise<T | undefined>, onTimeout: () => Error, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (opts.signal?.aborted) throw new CoattailError('interrupted', 'a stop was requested while waiting', 'Run the command again', 130);
    if (Date.now() > deadline) throw onTimeout();
    await sleep(opts.intervalMs ?? 100, opts.signal);
  }
}

function isAwsError(err: unknown, name: string): boolean {
  return err instanceof Error && err.name === name;
}

export interface StreamInfo {
  name: string;
  status: string;
  openShards: number;
}

/** The stream's status and open shards, or undefined when it does not exist. */
export async function describeStream(client: KinesisClient, name: string): Promise<StreamInfo | undefined> {
  try {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    const d = out.StreamDescriptionSummary;
    return { name, status: d?.StreamStatus ?? 'UNKNOWN', openShards: d?.OpenShardCount ?? 0 };
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) return undefined;
    throw err;
  }
}

/** Creates the stream unless it exists (an existing stream is left as it is), then waits for ACTIVE. */
export async function ensureStream(
  client: KinesisClient,
  name: string,
  shards: number,
  opts: WaitOptions = {},
): Promise<StreamInfo & { created: boolean }> {
  let created = false;
  if (!(await describeStream(client, name))) {
    try {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      created = true;
    } catch (err) {
      // Another `local up` created it meanwhile: that is what we wanted.
      if (!isAwsError(err, 'ResourceInUseException')) throw err;
    }
  }
  const info = await pollUntil(
    async () => {
      const d = await describeStream(client, name);
      return d?.status === 'ACTIVE' ? d : undefined;
    },
    () =>
      new CoattailError(
        `stream ${name} is not ACTIVE`,
        `still not after ${opts.timeoutMs ?? 30_000} ms`,
        "Check the Kinesis emulator's log, or run 'coattail local down' and 'coattail local up'",
      ),
    opts,
  );
  return { ...info, created };
}

/** The table's description, or undefined when it does not exist. */
export async function describeTable(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) return undefined;
    throw err;
  }
}

function tableActive(t: TableDescription): boolean {
  return t.TableStatus === 'ACTIVE' && (t.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
}

/**
 * Creates the alert table unless it exists, then waits until it and its index are ACTIVE. An
 * existing table without the time index would make `watch` scan, so it is refused, not used.
 */
export async function ensureAlertsTable(
  client: DynamoDBClient,
  opts: WaitOptions & { tableName?: string } = {},
): Promise<{ table: TableDescription; created: boolean }> {
  const definition = alertsTableDefinition(opts.tableName);
  const name = definition.TableName ?? ALERTS_TABLE;
  let created = false;
  if (!(await describeTable(client, name))) {
    try {
      await client.send(new CreateTableCommand(definition));
      created = true;
    } catch (err) {
      if (!isAwsError(err, 'ResourceInUseException')) throw err;
    }
  }
  const table = await pollUntil(
    async () => {
      const t = await describeTable(client, name);
      return t && tableActive(t) ? t : undefined;
    },
    () =>
      new CoattailError(
        `table ${name} is not ACTIVE`,
        `still not after ${opts.timeoutMs ?? 30_000} ms`,
        "Check the store's log, or run 'coattail local down' and 'coattail local up'",
      ),
    opts,
  );
  const hasIndex = (table.GlobalSecondaryIndexes ?? []).some((i) => i.IndexName === ALERTS_BY_TYPE_TIME_INDEX);
  const key = table.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  if (!hasIndex || key !== ALERT_ID_KEY) {
    throw new CoattailError(
      `table ${name} has another layout`,
      `expected key ${ALERT_ID_KEY} and index ${ALERTS_BY_TYPE_TIME_INDEX}, found key ${key ?? 'none'}${hasIndex ? '' : ' and no such index'}`,
      "Delete the table (or run 'coattail local down' and remove the state directory's dynamodb folder), then run 'coattail local up'",
    );
  }
  return { table, created };
}
