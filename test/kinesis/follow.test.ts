/**
 * The stream follower against the real Kinesis emulator (kinesis-local): where it starts, KPL aggregates
 * unpacked (written by the project's writer, and built here byte by byte), and resharding — SplitShard,
 * MergeShards and UpdateShardCount, both before the read and while it runs.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  SplitShardCommand,
  UpdateShardCountCommand,
  waitUntilStreamExists,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { CoattailError } from '../../src/core/errors.js';
import { StreamFollower, type FollowedRecord, type FollowEvent, type FollowOptions, type StartPosition } from '../../src/kinesis/follow.js';
import { KinesisWriter } from '../../src/kinesis/writer.js';
import { waitFor } from '../helpers/context.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const KEYS = Array.from({ length: 16 }, (_, i) => `key-${i}`);

let client: KinesisClient;
const stops: AbortController[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s.abort();
  client?.destroy();
});

async function stream(shards: number): Promise<string> {
  client = createKinesisClient({ endpoint: inject('kinesisEndpoint') }, {});
  const name = `follow-${randomUUID().slice(0, 8)}`;
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitUntilStreamExists({ client, maxWaitTime: 20, minDelay: 0.1, maxDelay: 0.5 }, { StreamName: name });
  return name;
}

async function active(name: string): Promise<void> {
  for (;;) {
    const d = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function shards(name: string): Promise<Shard[]> {
  return (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
}

const openShards = async (name: string): Promise<Shard[]> =>
  (await shards(name)).filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber);

/** One round of records, `round` in each key's payload: `key-3#2` is key-3's third record. */
async function putRound(name: string, round: number): Promise<string[]> {
  const payloads = KEYS.map((k) => `${k}#${round}`);
  const out = await client.send(
    new PutRecordsCommand({ StreamName: name, Records: KEYS.map((k, i) => ({ PartitionKey: k, Data: Buffer.from(payloads[i]!) })) }),
  );
  expect(out.FailedRecordCount ?? 0).toBe(0);
  return payloads;
}

async function split(name: string, shard: Shard): Promise<void> {
  const lo = BigInt(shard.HashKeyRange!.StartingHashKey!);
  const hi = BigInt(shard.HashKeyRange!.EndingHashKey!);
  await client.send(new SplitShardCommand({ StreamName: name, ShardToSplit: shard.ShardId!, NewStartingHashKey: String((lo + hi) / 2n) }));
  await active(name);
}

/** Two open shards whose hash ranges touch. */
async function mergeAdjacent(name: string): Promise<[string, string]> {
  const open = (await openShards(name)).sort((a, b) =>
    BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1,
  );
  const [a, b] = [open[0]!, open[1]!];
  expect(BigInt(a.HashKeyRange!.EndingHashKey!) + 1n).toBe(BigInt(b.HashKeyRange!.StartingHashKey!));
  await client.send(new MergeShardsCommand({ StreamName: name, ShardToMerge: a.ShardId!, AdjacentShardToMerge: b.ShardId! }));
  await active(name);
  return [a.ShardId!, b.ShardId!];
}

interface Run {
  got: FollowedRecord[];
  events: FollowEvent[];
  follower: StreamFollower;
  stop: AbortController;
  done: Promise<void>;
}

function start(name: string, from: StartPosition, extra: Partial<FollowOptions> = {}): Run {
  const got: FollowedRecord[] = [];
  const events: FollowEvent[] = [];
  const stop = new AbortController();
  stops.push(stop);
  const follower = new StreamFollower({
    client,
    stream: name,
    from,
    signal: stop.signal,
    onRecords: (r) => void got.push(...r),
    onEvent: (e) => events.push(e),
    idleMs: 50,
    minCallIntervalMs: 10,
    ...extra,
  });
  return { got, events, follower, stop, done: follower.run() };
}

/** Each key's rounds in the order they were printed must be 0, 1, 2…: per-key order across shards. */
function expectPerKeyOrder(got: FollowedRecord[], rounds: number): void {
  const byKey = new Map<string, number[]>();
  for (const r of got) {
    const [key, round] = text(r.data).split('#');
    expect(r.partitionKey).toBe(key);
    byKey.set(key!, [...(byKey.get(key!) ?? []), Number(round)]);
  }
  for (const k of KEYS) expect(byKey.get(k), k).toEqual(Array.from({ length: rounds }, (_, i) => i));
}

describe('where the read starts', () => {
  it('trim-horizon reads every record from the oldest; latest only what arrives after; --exit-at-end stops when caught up', async () => {
    const name = await stream(2);
    const before = await putRound(name, 0);
    const all = start(name, { type: 'TRIM_HORIZON' }, { exitAtEnd: true });
    await all.done;
    expect(all.got.map((r) => text(r.data)).sort()).toEqual([...before].sort());

    const latest = start(name, { type: 'LATEST' });
    // Both shards' iterators are open before anything is written.
    await waitFor(() => latest.events.filter((e) => e.type === 'shard-start').length === 2, 10_000, 'both iterators');
    const after = await putRound(name, 1);
    await waitFor(() => latest.got.length === after.length, 10_000, 'the new round');
    latest.stop.abort();
    await latest.done;
    expect(latest.got.map((r) => text(r.data)).sort()).toEqual([...after].sort());
    expect(latest.events.filter((e) => e.type === 'shard-start').map((e) => e.type === 'shard-start' && e.iterator)).toEqual([
      'LATEST',
      'LATEST',
    ]);
  });

  it('a time reads the records that arrived from then on (AT_TIMESTAMP)', async () => {
    const name = await stream(2);
    await putRound(name, 0);
    // Every record of round 0 arrived before `from`; round 1 is written once the clock has passed it.
    const from = new Date(Date.now() + 1);
    await waitFor(() => Date.now() > from.getTime(), 1_000, 'the clock to pass the start time');
    const later = await putRound(name, 1);
    const run = start(name, { type: 'AT_TIMESTAMP', timestamp: from }, { exitAtEnd: true });
    await run.done;
    expect(run.got.map((r) => text(r.data)).sort()).toEqual([...later].sort());
  });

  it('a stream that does not exist is one error naming it', async () => {
    client = createKinesisClient({ endpoint: inject('kinesisEndpoint') }, {});
    const run = start('no-such-stream', { type: 'LATEST' }, { where: 'at the emulator' });
    await expect(run.done).rejects.toThrow(CoattailError);
    await expect(run.done).rejects.toThrow("stream 'no-such-stream' does not exist (at the emulator)");
  });
});

/** A KPL aggregate written out by hand from aggregation-format.md, independent of src/kinesis/kpl.ts. */
function handAggregate(keys: string[], hashKeys: string[], records: Array<{ key: number; hash?: number; data: string }>): Buffer {
  const field = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.of(tag, body.length), body]);
  const parts: Buffer[] = [];
  for (const k of keys) parts.push(field(0x0a, Buffer.from(k)));
  for (const h of hashKeys) parts.push(field(0x12, Buffer.from(h)));
  for (const r of records) {
    const rec = Buffer.concat([
      Buffer.of(0x08, r.key),
      ...(r.hash !== undefined ? [Buffer.of(0x10, r.hash)] : []),
      field(0x1a, Buffer.from(r.data)),
      // A tag { key = "t", value = "v" } (field 4), which a reader skips.
      field(0x22, Buffer.concat([field(0x0a, Buffer.from('t')), field(0x12, Buffer.from('v'))])),
    ]);
    parts.push(field(0x1a, rec));
  }
  const proto = Buffer.concat(parts);
  return Buffer.concat([Buffer.of(0xf3, 0x89, 0x9a, 0xc2), proto, createHash('md5').update(proto).digest()]);
}

describe('KPL aggregates', () => {
  it('unpacks an aggregate built by hand into its user records, in order, beside plain records', async () => {
    const name = await stream(1);
    const agg = handAggregate(
      ['BTC-USDT', 'ETH-USDT'],
      ['1234'],
      [
        { key: 0, data: 'first' },
        { key: 1, hash: 0, data: 'second' },
        { key: 0, data: 'third' },
      ],
    );
    await client.send(new PutRecordCommand({ StreamName: name, PartitionKey: 'plain-before', Data: Buffer.from('plain 1') }));
    await client.send(new PutRecordCommand({ StreamName: name, PartitionKey: 'BTC-USDT', Data: agg }));
    // Magic number but a wrong checksum: a plain record, as the KCL treats it.
    const forged = Buffer.from(agg);
    forged[forged.length - 1] = forged.at(-1)! ^ 0xff;
    await client.send(new PutRecordCommand({ StreamName: name, PartitionKey: 'forged', Data: forged }));
    const run = start(name, { type: 'TRIM_HORIZON' }, { exitAtEnd: true });
    await run.done;
    expect(run.got.map((r) => [r.partitionKey, r.subSequenceNumber, r.data.length === forged.length ? 'forged' : text(r.data)])).toEqual([
      ['plain-before', undefined, 'plain 1'],
      ['BTC-USDT', 0, 'first'],
      ['ETH-USDT', 1, 'second'],
      ['BTC-USDT', 2, 'third'],
      ['forged', undefined, 'forged'],
    ]);
    const [, a, b, c] = run.got;
    expect(new Set([a!.sequenceNumber, b!.sequenceNumber, c!.sequenceNumber]).size).toBe(1);
    expect(run.follower.stats).toMatchObject({ kinesisRecords: 3, userRecords: 5, aggregates: 1 });
  });

  it("reads back exactly what the project's writer aggregated", async () => {
    const name = await stream(2);
    const writer = new KinesisWriter({ client, streamName: name, aggregate: true, lingerMs: 20 });
    const expected: string[] = [];
    for (let i = 0; i < 600; i++) {
      const key = KEYS[i % 4]!;
      expected.push(`${key}#${Math.floor(i / 4)}`);
      writer.write(key, Buffer.from(expected[i]!));
    }
    const closed = await writer.close();
    expect(closed.stats.sent).toBe(600);
    const run = start(name, { type: 'TRIM_HORIZON' }, { exitAtEnd: true });
    await run.done;
    expect(run.got.map((r) => text(r.data)).sort()).toEqual([...expected].sort());
    expect(run.follower.stats.aggregates).toBeGreaterThan(0);
    expect(run.follower.stats.kinesisRecords).toBeLessThan(600);
    // Per key, in the order written.
    for (const key of KEYS.slice(0, 4)) {
      expect(run.got.filter((r) => r.partitionKey === key).map((r) => text(r.data))).toEqual(
        expected.filter((e) => e.startsWith(`${key}#`)),
      );
    }
  });
});

describe('a resharded stream', () => {
  it('reads parents to their end before their children, after SplitShard, MergeShards and UpdateShardCount', async () => {
    const name = await stream(2);
    await putRound(name, 0);
    await split(name, (await shards(name))[0]!);
    await putRound(name, 1);
    const merged = await mergeAdjacent(name);
    await putRound(name, 2);
    await client.send(new UpdateShardCountCommand({ StreamName: name, TargetShardCount: 4, ScalingType: 'UNIFORM_SCALING' }));
    await active(name);
    await putRound(name, 3);

    const all = await shards(name);
    const closed = all.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber).map((s) => s.ShardId!);
    expect(closed.length).toBeGreaterThanOrEqual(4);
    expect(all.some((s) => s.AdjacentParentShardId)).toBe(true);

    const run = start(name, { type: 'TRIM_HORIZON' }, { exitAtEnd: true });
    await run.done;
    expect(run.got).toHaveLength(KEYS.length * 4);
    expectPerKeyOrder(run.got, 4);
    // Every shard was read; each closed one ended before any of its children started.
    expect(new Set(run.events.filter((e) => e.type === 'shard-start').map((e) => e.shardId))).toEqual(new Set(all.map((s) => s.ShardId)));
    const ends = run.events.filter((e) => e.type === 'shard-end');
    expect(new Set(ends.map((e) => e.shardId))).toEqual(new Set(closed));
    for (const s of all) {
      const startAt = run.events.findIndex((e) => e.type === 'shard-start' && e.shardId === s.ShardId);
      for (const p of [s.ParentShardId, s.AdjacentParentShardId].filter(Boolean)) {
        expect(run.events.findIndex((e) => e.type === 'shard-end' && e.shardId === p)).toBeLessThan(startAt);
      }
    }
    const mergedChild = all.find((s) => s.ParentShardId === merged[0] && s.AdjacentParentShardId === merged[1]);
    expect(mergedChild).toBeDefined();
  });

  it('follows a split and a merge that happen while it reads from latest', async () => {
    const name = await stream(2);
    const run = start(name, { type: 'LATEST' });
    await waitFor(() => run.events.filter((e) => e.type === 'shard-start').length === 2, 10_000, 'both iterators');
    await putRound(name, 0);
    await split(name, (await shards(name))[0]!);
    await putRound(name, 1);
    await mergeAdjacent(name);
    await putRound(name, 2);
    await waitFor(() => run.got.length === KEYS.length * 3, 20_000, 'every round');
    run.stop.abort();
    await run.done;
    expect(run.got).toHaveLength(KEYS.length * 3);
    expectPerKeyOrder(run.got, 3);
    const ended = run.events.filter((e) => e.type === 'shard-end');
    expect(ended.map((e) => e.shardId).sort()).toEqual(['shardId-000000000000', 'shardId-000000000002', 'shardId-000000000003']);
    // The children of a shard first opened at LATEST are read from their oldest record.
    const childStarts = run.events.filter((e) => e.type === 'shard-start').slice(2);
    expect(childStarts.map((e) => e.type === 'shard-start' && e.iterator)).toEqual(['TRIM_HORIZON', 'TRIM_HORIZON', 'TRIM_HORIZON']);
  });
});
