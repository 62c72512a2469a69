/**
 * After the ingest stops, the jobs still have work in flight: the last trades in Kinesis, the windows
 * that the last trades' watermark closes (emitted by one more batch), and the anomaly query reading the
 * aggregates those write. The drain waits until each query has done all of it, read from the facts
 * rather than guessed from a quiet period (which a starved machine stretches past any guess):
 *
 * - no micro-batch is running (every started batch is committed);
 * - no batch is owed to the watermark (the last one ran with the watermark it hands on);
 * - a query reading an Iceberg table has read its current snapshot;
 * - a query reading Kinesis has nothing left after its position in any shard (one GetRecords each).
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import path from 'node:path';
import { sleep } from '../core/backoff.js';
import { currentSnapshotId, readQueries, type QueryState, type ShardPosition } from './progress.js';
import { ICEBERG_SOURCES } from '../spark/jobs.js';

/** The namespace of the jobs' tables in the local catalog (jobs-py/coattail_jobs/config.py DATABASE). */
const DATABASE = 'crypto_pulse';

export interface DrainSettings {
  checkpointRoot: string;
  warehouse: string;
  client: KinesisClient;
  stream: string;
  timeoutMs: number;
  /** Stop waiting when this turns true (the jobs exited). */
  gone: () => boolean;
  intervalMs?: number;
  /** Kinesis is asked again at most this often while the checkpoints do not move. */
  recheckMs?: number;
}

export interface DrainResult {
  outcome: 'settled' | 'timeout' | 'gone';
  /** What was still pending at the end (empty when settled). */
  pending: string[];
}

/** What a query still has to do, judging by its checkpoint alone; undefined when nothing. */
export function localPending(q: QueryState, warehouse: string): string | undefined {
  if (q.started > q.committed) return `${q.query}: batch ${q.started} running`;
  if (!q.watermarkSettled) return `${q.query}: a batch owed to its watermark`;
  const table = ICEBERG_SOURCES[q.query];
  if (table) {
    const current = currentSnapshotId(path.join(warehouse, DATABASE, table));
    if (current !== undefined && q.snapshotId !== current) return `${q.query}: ${table} has a snapshot it has not read`;
  }
  if (q.shardsBeingWritten) return `${q.query}: its shard positions are being written`;
  if (q.shards && q.shards.length === 0) return `${q.query}: has not read Kinesis yet`;
  return undefined;
}

async function shardHasMore(client: KinesisClient, stream: string, p: ShardPosition): Promise<boolean> {
  if (p.iteratorType === 'SHARD_END') return false;
  const after = p.iteratorType === 'AFTER_SEQUENCE_NUMBER' && p.iteratorPosition !== undefined;
  const it = await client.send(
    new GetShardIteratorCommand({
      StreamName: stream,
      ShardId: p.shardId,
      ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON',
      ...(after ? { StartingSequenceNumber: p.iteratorPosition } : {}),
    }),
  );
  const out = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 1 }));
  return (out.Records?.length ?? 0) > 0;
}

/** The Kinesis queries with records left after their position. */
export async function kinesisPending(client: KinesisClient, stream: string, queries: readonly QueryState[]): Promise<string[]> {
  const pending: string[] = [];
  for (const q of queries) {
    for (const shard of q.shards ?? []) {
      if (await shardHasMore(client, stream, shard)) {
        pending.push(`${q.query}: trades left in ${shard.shardId}`);
        break;
      }
    }
  }
  return pending;
}

export async function drain(s: DrainSettings): Promise<DrainResult> {
  const deadline = Date.now() + s.timeoutMs;
  let pending: string[] = ['not looked yet'];
  let askedFor = '';
  let askedAt = 0;
  for (;;) {
    if (s.gone()) return { outcome: 'gone', pending };
    const queries = readQueries(s.checkpointRoot);
    const local = queries.map((q) => localPending(q, s.warehouse)).filter((p): p is string => p !== undefined);
    const signature = queries.map((q) => `${q.query}:${q.started}:${q.committed}`).join(',');
    if (local.length > 0) pending = local;
    else if (signature !== askedFor || Date.now() - askedAt >= (s.recheckMs ?? 5_000)) {
      // Only when the checkpoints moved (or a while passed): each look is a few calls to a slow emulator.
      askedFor = signature;
      askedAt = Date.now();
      pending = await kinesisPending(s.client, s.stream, queries);
      if (pending.length === 0) return { outcome: 'settled', pending };
    }
    if (Date.now() >= deadline) return { outcome: 'timeout', pending };
    await sleep(s.intervalMs ?? 500);
  }
}
