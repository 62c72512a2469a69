/**
 * What the emulator cannot be made to answer — ProvisionedThroughputExceeded, LimitExceeded, an expired
 * iterator, a refused or failing call — at the SDK boundary, asserting the requests the follower sends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  LimitExceededException,
  ListShardsCommand,
  ProvisionedThroughputExceededException,
  type GetRecordsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { CoattailError } from '../../src/core/errors.js';
import { StreamFollower, type FollowedRecord, type FollowEvent, type StartPosition } from '../../src/kinesis/follow.js';

const client = new KinesisClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const mock = mockClient(client);
afterEach(() => mock.reset());

const SHARD = {
  ShardId: 'shardId-000000000000',
  HashKeyRange: { StartingHashKey: '0', EndingHashKey: '340282366920938463463374607431768211455' },
  SequenceNumberRange: { StartingSequenceNumber: '100' },
};
const throttled = () =>
  new ProvisionedThroughputExceededException({ message: 'Rate exceeded for shard shardId-000000000000', $metadata: {} });
const expired = () => new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} });

function records(seqs: number[], next: string | undefined): Partial<GetRecordsCommandOutput> {
  return {
    Records: seqs.map((s) => ({ SequenceNumber: String(s), PartitionKey: 'BTC-USDT', Data: Buffer.from(`r${s}`) })),
    NextShardIterator: next,
    MillisBehindLatest: next ? 0 : undefined,
    ...(next ? {} : { ChildShards: [] }),
  };
}

function follower(from: StartPosition, opts: { now?: () => number; maxTransientRetries?: number; exitAtEnd?: boolean } = {}) {
  const got: FollowedRecord[] = [];
  const events: FollowEvent[] = [];
  const f = new StreamFollower({
    client,
    stream: 's',
    from,
    signal: new AbortController().signal,
    onRecords: (r) => void got.push(...r),
    onEvent: (e) => events.push(e),
    idleMs: 1,
    minCallIntervalMs: 0,
    throttleBackoff: { baseMs: 10, capMs: 80 },
    random: () => 0.999,
    ...opts,
  });
  return { f, got, events, text: () => got.map((r) => Buffer.from(r.data).toString()) };
}

const iteratorInputs = () => mock.commandCalls(GetShardIteratorCommand).map((c) => c.args[0].input);
const recordIterators = () => mock.commandCalls(GetRecordsCommand).map((c) => c.args[0].input.ShardIterator);

describe('throttling and expired iterators', () => {
  it('backs off on ProvisionedThroughputExceeded, re-opens an expired iterator after the last sequence number', async () => {
    mock.on(ListShardsCommand).resolves({ Shards: [SHARD] });
    mock.on(GetShardIteratorCommand).resolvesOnce({ ShardIterator: 'it-0' }).resolvesOnce({ ShardIterator: 'it-1' });
    mock
      .on(GetRecordsCommand)
      .rejectsOnce(throttled())
      .resolvesOnce(records([101, 102], 'it-0b'))
      .rejectsOnce(expired())
      .resolvesOnce(records([103], undefined));
    const { f, text, events } = follower({ type: 'TRIM_HORIZON' });
    await f.run();

    expect(text()).toEqual(['r101', 'r102', 'r103']);
    // The throttled call is asked again with the same iterator; the expired one is replaced.
    expect(recordIterators()).toEqual(['it-0', 'it-0', 'it-0b', 'it-1']);
    expect(iteratorInputs()).toEqual([
      { StreamName: 's', ShardId: SHARD.ShardId, ShardIteratorType: 'TRIM_HORIZON' },
      { StreamName: 's', ShardId: SHARD.ShardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: '102' },
    ]);
    expect(f.stats).toMatchObject({ throttled: 1, expiredIterators: 1, shardsFinished: 1, userRecords: 3 });
    expect(events).toContainEqual({ type: 'iterator-expired', shardId: SHARD.ShardId, after: '102' });
  });

  it('an iterator that expires before any record re-opens at the time the tail started, not at a later LATEST', async () => {
    const started = Date.parse('2026-03-01T12:00:00.000Z');
    mock.on(ListShardsCommand).resolves({ Shards: [SHARD] });
    mock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    mock
      .on(GetRecordsCommand)
      .rejectsOnce(expired())
      .resolvesOnce(records([200], undefined));
    const { f, text } = follower({ type: 'LATEST' }, { now: () => started });
    await f.run();
    expect(text()).toEqual(['r200']);
    expect(iteratorInputs().map((i) => [i.ShardIteratorType, i.Timestamp?.toISOString()])).toEqual([
      ['LATEST', undefined],
      ['AT_TIMESTAMP', '2026-03-01T12:00:00.000Z'],
    ]);
  });

  it('keeps backing off while throttled, each wait longer up to the cap, and LimitExceeded on ListShards and GetShardIterator too', async () => {
    const limit = (what: string) => new LimitExceededException({ message: `Rate exceeded for ${what}`, $metadata: {} });
    mock
      .on(ListShardsCommand)
      .rejectsOnce(limit('ListShards'))
      .resolves({ Shards: [SHARD] });
    mock.on(GetShardIteratorCommand).rejectsOnce(limit('stream s')).resolves({ ShardIterator: 'it' });
    const getRecords = mock.on(GetRecordsCommand);
    for (let i = 0; i < 5; i++) getRecords.rejectsOnce(throttled());
    getRecords.resolvesOnce(records([300], undefined));
    const { f, text, events } = follower({ type: 'TRIM_HORIZON' });
    await f.run();
    expect(text()).toEqual(['r300']);
    const waits = events.filter((e) => e.type === 'throttled').map((e) => (e.type === 'throttled' ? [e.what, e.reason, e.waitMs] : []));
    // Full jitter with random() = 0.999: just under 10, 20, 40, 80, then the 80 ms cap, counted per call.
    const pte = (ms: number) => ['shard shardId-000000000000', 'ProvisionedThroughputExceededException', ms];
    expect(waits).toEqual([
      ['the shard list', 'LimitExceededException', 9],
      ['shard shardId-000000000000', 'LimitExceededException', 9],
      pte(9),
      pte(19),
      pte(39),
      pte(79),
      pte(79),
    ]);
    expect(f.stats.throttled).toBe(7);
  });
});

describe('--exit-at-end across a reshard', () => {
  it("reads a closed shard's children even when the other shard is caught up while they are being listed", async () => {
    const range = (start: string, end: string) => ({ StartingHashKey: start, EndingHashKey: end });
    const parent = {
      ShardId: 'shardId-000000000000',
      HashKeyRange: range('0', '99'),
      SequenceNumberRange: { StartingSequenceNumber: '100' },
    };
    const other = {
      ShardId: 'shardId-000000000001',
      HashKeyRange: range('100', '199'),
      SequenceNumberRange: { StartingSequenceNumber: '100' },
    };
    const closed = { ...parent, SequenceNumberRange: { StartingSequenceNumber: '100', EndingSequenceNumber: '101' } };
    const child = {
      ShardId: 'shardId-000000000002',
      ParentShardId: parent.ShardId,
      HashKeyRange: range('0', '99'),
      SequenceNumberRange: { StartingSequenceNumber: '200' },
    };
    let lists = 0;
    // The first list is the tail's start; the second, the closed shard's children, answers only after the other shard
    // has polled (caught up) many times: without the wait for adoption, the tail would end here.
    mock.on(ListShardsCommand).callsFake(async () => {
      lists += 1;
      if (lists === 1) return { Shards: [parent, other] };
      await new Promise((resolve) => setTimeout(resolve, 150));
      return { Shards: [closed, other, child] };
    });
    mock.on(GetShardIteratorCommand).callsFake((input: { ShardId: string }) => ({ ShardIterator: `it-${input.ShardId.slice(-1)}` }));
    mock.on(GetRecordsCommand, { ShardIterator: 'it-0' }).resolves({
      Records: [{ SequenceNumber: '101', PartitionKey: 'k', Data: Buffer.from('r101') }],
      ChildShards: [{ ShardId: child.ShardId, ParentShards: [parent.ShardId], HashKeyRange: child.HashKeyRange }],
    });
    mock.on(GetRecordsCommand, { ShardIterator: 'it-1' }).resolves({ Records: [], NextShardIterator: 'it-1', MillisBehindLatest: 0 });
    mock.on(GetRecordsCommand, { ShardIterator: 'it-2' }).resolves({
      Records: [{ SequenceNumber: '200', PartitionKey: 'k', Data: Buffer.from('r200') }],
      NextShardIterator: 'it-2b',
      MillisBehindLatest: 0,
    });
    mock.on(GetRecordsCommand, { ShardIterator: 'it-2b' }).resolves({ Records: [], NextShardIterator: 'it-2b', MillisBehindLatest: 0 });
    const { f, text } = follower({ type: 'TRIM_HORIZON' }, { exitAtEnd: true });
    await f.run();
    expect(text()).toEqual(['r101', 'r200']);
    expect(lists).toBe(2);
    expect(f.stats).toMatchObject({ shardsStarted: 3, shardsFinished: 1 });
  });
});

describe('failures', () => {
  it('a refused call ends the read with one line naming the shard and the reason', async () => {
    mock.on(ListShardsCommand).resolves({ Shards: [SHARD] });
    mock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    const denied = Object.assign(new Error('User: arn:aws:iam::123456789012:user/x is not authorized to perform: kinesis:GetRecords'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    mock.on(GetRecordsCommand).rejects(denied);
    const { f } = follower({ type: 'LATEST' });
    const err = await f.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).line()).toMatch(
      /^coattail: cannot read shard shardId-000000000000 of stream 's': AccessDeniedException: User: .* kinesis:GetRecords\. Check/,
    );
    expect(mock.commandCalls(GetRecordsCommand)).toHaveLength(1);
  });

  it('a failing service (5xx) is retried a few times, then the read ends', async () => {
    mock.on(ListShardsCommand).resolves({ Shards: [SHARD] });
    mock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    const unavailable = Object.assign(new Error('Service unavailable'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } });
    mock.on(GetRecordsCommand).rejects(unavailable);
    const { f, events } = follower({ type: 'LATEST' }, { maxTransientRetries: 3 });
    await expect(f.run()).rejects.toThrow(/InternalFailure: Service unavailable/);
    expect(mock.commandCalls(GetRecordsCommand)).toHaveLength(4);
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(3);
  });

  it('a stream deleted while it is read is said to be missing', async () => {
    mock.on(ListShardsCommand).resolves({ Shards: [SHARD] });
    mock.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    mock
      .on(GetRecordsCommand)
      .rejects(Object.assign(new Error('Stream s not found'), { name: 'ResourceNotFoundException', $metadata: {} }));
    await expect(follower({ type: 'LATEST' }).f.run()).rejects.toThrow("stream 's' does not exist");
  });
});
