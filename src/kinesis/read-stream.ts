/**
 * Reads every record a stream holds right now, all shards, from the oldest (TRIM_HORIZON) until caught
 * up. For checking what a producer wrote (tests, local demos), not for consuming a busy stream.
 */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';

export interface StreamRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: Uint8Array;
}

async function listShards(client: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    // ListShards takes either the stream name or a continuation token, never both.
    const out = await client.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }));
    shards.push(...(out.Shards ?? []));
    nextToken = out.NextToken;
  } while (nextToken);
  return shards;
}

async function readShard(client: KinesisClient, streamName: string, shardId: string, maxCalls: number): Promise<StreamRecord[]> {
  const records: StreamRecord[] = [];
  const start = await client.send(
    new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  let iterator = start.ShardIterator;
  for (let calls = 0; iterator; calls += 1) {
    if (calls === maxCalls) throw new Error(`shard ${shardId} of ${streamName} still had records after ${maxCalls} GetRecords calls`);
    const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
    for (const r of out.Records ?? []) {
      records.push({
        shardId,
        sequenceNumber: r.SequenceNumber ?? '',
        partitionKey: r.PartitionKey ?? '',
        data: r.Data ?? new Uint8Array(),
      });
    }
    // Caught up: nothing returned and nothing behind. A closed shard ends with no next iterator.
    if ((out.Records?.length ?? 0) === 0 && (out.MillisBehindLatest ?? 0) === 0) break;
    iterator = out.NextShardIterator;
  }
  return records;
}

/** Every record in the stream, shard by shard, each shard in sequence order. */
export async function readStreamRecords(
  client: KinesisClient,
  streamName: string,
  opts: { maxCallsPerShard?: number } = {},
): Promise<StreamRecord[]> {
  const shards = await listShards(client, streamName);
  const perShard = await Promise.all(shards.map((s) => readShard(client, streamName, s.ShardId ?? '', opts.maxCallsPerShard ?? 1_000)));
  return perShard.flat();
}
