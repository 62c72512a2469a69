/** The drain's look at Kinesis, against the suite's real Kinesis emulator. */
import { PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { drain, kinesisPending } from '../../src/demo/drain.js';
import type { QueryState } from '../../src/demo/progress.js';
import { ensureStream } from '../../src/local/resources.js';

const stream = `demo-drain-${process.pid}-${Date.now()}`;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'coattail-demo-drain-'));
let client: KinesisClient;
const sequences: string[] = [];

beforeAll(async () => {
  client = createKinesisClient({ endpoint: inject('kinesisEndpoint'), region: 'us-east-1' }, {});
  await ensureStream(client, stream, 1);
  for (const n of [1, 2, 3]) {
    const out = await client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'BTC-USDT', Data: Buffer.from(`trade ${n}`) }));
    sequences.push(out.SequenceNumber!);
  }
});

afterAll(() => {
  client.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

function query(type: string, position?: string): QueryState {
  return {
    query: 'whale-detector/whales',
    started: 3,
    committed: 3,
    watermarkSettled: true,
    shards: [{ shardId: 'shardId-000000000000', iteratorType: type, iteratorPosition: position }],
    snapshotId: undefined,
  };
}

describe('what is left in Kinesis after a query’s position', () => {
  it('records after the position are left; none after the last one', async () => {
    expect(await kinesisPending(client, stream, [query('TRIM_HORIZON')])).toEqual([
      'whale-detector/whales: trades left in shardId-000000000000',
    ]);
    expect(await kinesisPending(client, stream, [query('AFTER_SEQUENCE_NUMBER', sequences[1])])).toHaveLength(1);
    expect(await kinesisPending(client, stream, [query('AFTER_SEQUENCE_NUMBER', sequences[2])])).toEqual([]);
    expect(await kinesisPending(client, stream, [query('SHARD_END')])).toEqual([]);
  });

  it('drain settles once the checkpoint shows the last record read, and reports what is left when it cannot', async () => {
    const root = path.join(tmp, 'checkpoints');
    const q = path.join(root, 'whale-detector', 'whales');
    const write = (rel: string, text: string): void => {
      mkdirSync(path.dirname(path.join(q, rel)), { recursive: true });
      writeFileSync(path.join(q, rel), text);
    };
    write('offsets/0', 'v1\n{"batchWatermarkMs":0,"batchTimestampMs":1}\n{"metadata":{"streamName":"s","batchId":"0"}}');
    write('commits/0', 'v1\n{"nextBatchWatermarkMs":0}');
    write(
      'sources/0/shard-commit/0/shardId-000000000000',
      JSON.stringify({ shardId: 'shardId-000000000000', iteratorType: 'AFTER_SEQUENCE_NUMBER', iteratorPosition: sequences[1] }),
    );
    const common = {
      checkpointRoot: root,
      warehouse: path.join(tmp, 'warehouse'),
      client,
      stream,
      gone: () => false,
      intervalMs: 20,
      recheckMs: 50,
    };
    expect(await drain({ ...common, timeoutMs: 300 })).toEqual({
      outcome: 'timeout',
      pending: ['whale-detector/whales: trades left in shardId-000000000000'],
    });
    write(
      'sources/0/shard-commit/0/shardId-000000000000',
      JSON.stringify({ shardId: 'shardId-000000000000', iteratorType: 'AFTER_SEQUENCE_NUMBER', iteratorPosition: sequences[2] }),
    );
    expect(await drain({ ...common, timeoutMs: 10_000 })).toEqual({ outcome: 'settled', pending: [] });
    expect((await drain({ ...common, timeoutMs: 10_000, gone: () => true })).outcome).toBe('gone');
  });
});
