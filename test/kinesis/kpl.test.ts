/**
 * KPL aggregated records: the byte format (checked against a vector built by hand from the protobuf
 * wire rules), decoding, and the writer's aggregation, through a mocked SDK and through the emulator.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateStreamCommand,
  KinesisClient,
  PutRecordsCommand,
  waitUntilStreamExists,
  type PutRecordsInput,
} from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { AggregateBuilder, decodeAggregated, encodeAggregated, isAggregated } from '../../src/kinesis/kpl.js';
import { readStreamRecords } from '../../src/kinesis/read-stream.js';
import { KinesisWriter } from '../../src/kinesis/writer.js';

const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const md5 = (b: Uint8Array): Buffer => createHash('md5').update(b).digest();
const MAGIC = [0xf3, 0x89, 0x9a, 0xc2];

/** magic + protobuf + MD5(protobuf): an aggregate around protobuf bytes written by hand. */
function frame(proto: number[]): Uint8Array {
  return Uint8Array.from([...MAGIC, ...proto, ...md5(Uint8Array.from(proto))]);
}

describe('KPL aggregated record format', () => {
  it('encodes a tiny aggregate to the exact bytes of the format', () => {
    const records = [
      { partitionKey: 'a', data: Uint8Array.of(0x01) },
      { partitionKey: 'b', data: Uint8Array.of(0x02, 0x03) },
      { partitionKey: 'a', data: new Uint8Array() },
    ];
    // AggregatedRecord, field by field (tag = field << 3 | wire type; 2 = length-delimited, 0 = varint):
    const proto = [
      0x0a,
      0x01,
      0x61, //              partition_key_table (1): "a"
      0x0a,
      0x01,
      0x62, //              partition_key_table (1): "b"
      0x1a,
      0x05,
      0x08,
      0x00,
      0x1a,
      0x01,
      0x01, //             records (3): {partition_key_index 0, data 01}
      0x1a,
      0x06,
      0x08,
      0x01,
      0x1a,
      0x02,
      0x02,
      0x03, //       records (3): {partition_key_index 1, data 02 03}
      0x1a,
      0x04,
      0x08,
      0x00,
      0x1a,
      0x00, //                   records (3): {partition_key_index 0, data empty}
    ];
    const expected = frame(proto);
    expect(expected).toHaveLength(4 + 27 + 16);

    const builder = new AggregateBuilder();
    for (const r of records) builder.add(r.partitionKey, r.data);
    expect(builder.size).toBe(47);
    expect(Buffer.from(builder.build()).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
    expect(Buffer.from(encodeAggregated(records)).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
    expect(decodeAggregated(expected)).toEqual(records);
  });

  it('decodes fields in any order, explicit hash keys, and skips tags and unknown fields', () => {
    const proto = [
      0x1a,
      0x0c,
      0x08,
      0x00,
      0x10,
      0x00,
      0x1a,
      0x01,
      0x41,
      0x22,
      0x03,
      0x0a,
      0x01,
      0x6b, // record: key 0, hash key 0, "A", tag {key "k"}
      0x0a,
      0x01,
      0x61, //                                                                  partition_key_table: "a"
      0x12,
      0x03,
      0x31,
      0x32,
      0x33, //                                                      explicit_hash_key_table: "123"
      0x28,
      0x96,
      0x01, //                                                                  unknown field 5, varint 150
    ];
    expect(decodeAggregated(frame(proto))).toEqual([{ partitionKey: 'a', data: Uint8Array.of(0x41), explicitHashKey: '123' }]);
  });

  it('round-trips records of several keys, binary data and multi-byte lengths', () => {
    const records = [
      { partitionKey: 'BTC-USDT', data: Buffer.from('{"price":65000.01}') },
      { partitionKey: 'ETH-USDT', data: Uint8Array.from({ length: 300 }, (_, i) => i % 256) },
      { partitionKey: 'BTC-USDT', data: new Uint8Array(70_000).fill(0xf3) },
      { partitionKey: 'clé-ünïcode', data: Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2) },
    ];
    const encoded = encodeAggregated(records);
    expect(isAggregated(encoded)).toBe(true);
    const decoded = decodeAggregated(encoded);
    expect(decoded?.map((r) => [r.partitionKey, Buffer.from(r.data).toString('hex')])).toEqual(
      records.map((r) => [r.partitionKey, Buffer.from(r.data).toString('hex')]),
    );
  });

  it('predicts the size of an aggregate before each record is added', () => {
    const builder = new AggregateBuilder();
    const predicted: number[] = [];
    for (const [key, n] of [
      ['k', 1],
      ['k', 127],
      ['other', 128],
      ['k', 20_000],
    ] as const) {
      const data = new Uint8Array(n);
      predicted.push(builder.sizeWith(key, data));
      builder.add(key, data);
    }
    // 20 (magic + MD5) to start; a key new to the table: 1 + 1 + its length ("k": 3, "other": 7); a record of
    // n bytes: 1 + len(inner) + inner, inner = 3 + len(n) + n, len() being 1 byte below 128, 2 below 16,384, else 3.
    // n = 1: 20 + 3 + (1 + 1 + 5) = 30; n = 127: inner 131, + (1 + 2 + 131) = 164;
    // "other" + n = 128: + 7 + (1 + 2 + 133) = 307; n = 20,000: inner 20,006, + (1 + 3 + 20,006) = 20,317.
    expect(predicted).toEqual([30, 164, 307, 20_317]);
    expect(builder.build()).toHaveLength(20_317);
  });

  it('treats what is not an aggregate as plain, and refuses a corrupt one', () => {
    const good = encodeAggregated([{ partitionKey: 'a', data: Uint8Array.of(1, 2, 3) }]);
    const badMd5 = Uint8Array.from(good);
    badMd5[badMd5.length - 1] = (badMd5[badMd5.length - 1] ?? 0) ^ 0xff;
    expect(decodeAggregated(badMd5)).toBeUndefined();
    const flipped = Uint8Array.from(good);
    flipped[10] = (flipped[10] ?? 0) ^ 0x01; // a protobuf byte changed: the MD5 no longer matches
    expect(decodeAggregated(flipped)).toBeUndefined();
    expect(decodeAggregated(Buffer.from('{"symbol":"BTC-USDT"}'))).toBeUndefined();
    expect(isAggregated(Uint8Array.from(MAGIC))).toBe(false); // magic alone, no room for an MD5
    expect(decodeAggregated(new Uint8Array())).toBeUndefined();
    // A valid checksum over a record that points at a partition key the table does not have.
    expect(() => decodeAggregated(frame([0x1a, 0x05, 0x08, 0x03, 0x1a, 0x01, 0x01]))).toThrow(/partition key 3 of 0/);
    expect(() => decodeAggregated(frame([0x1a, 0x09, 0x08]))).toThrow(/malformed KPL/);
  });
});

describe('KinesisWriter with aggregation', () => {
  const clients: KinesisClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });

  it('packs records by key up to the size limit, sending lone and oversized records plain', async () => {
    const client = new KinesisClient({ region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
    clients.push(client);
    const mock = mockClient(client);
    mock.on(PutRecordsCommand).callsFake(async (input: PutRecordsInput) => ({
      FailedRecordCount: 0,
      Records: (input.Records ?? []).map((_, i) => ({ SequenceNumber: String(i), ShardId: 'shardId-0' })),
    }));
    const writer = new KinesisWriter({ client, streamName: 's', aggregate: true, maxAggregatedBytes: 100, lingerMs: 60_000 });
    const x = 'x'.repeat(30);
    const y = 'y'.repeat(200);
    for (const [key, data] of [
      ['A', x],
      ['A', x],
      ['A', x],
      ['B', 'solo'],
      ['A', y],
      ['A', 'z'],
    ])
      writer.write(key as string, Buffer.from(data as string));
    const { stats } = await writer.close();

    // An aggregate of n 30-byte records under key "A": 20 + 3 + 36n bytes, so two fit in 100 (95), three do not (131).
    const [call] = mock.commandCalls(PutRecordsCommand);
    const entries = call?.args[0].input.Records ?? [];
    expect(entries.map((e) => e.PartitionKey)).toEqual(['A', 'A', 'A', 'B', 'A']);
    expect(entries[0]?.Data).toHaveLength(95);
    expect(decodeAggregated(entries[0]?.Data ?? new Uint8Array())?.map((r) => [r.partitionKey, text(r.data)])).toEqual([
      ['A', x],
      ['A', x],
    ]);
    // The third x stayed alone (the 200-byte y cannot join any aggregate), so both go plain, in order.
    expect(entries.slice(1).map((e) => text(e.Data))).toEqual([x, y, 'solo', 'z']);
    expect(entries.slice(1).some((e) => isAggregated(e.Data ?? new Uint8Array()))).toBe(false);
    expect(stats).toMatchObject({ accepted: 6, sent: 6, batches: 1, aggregatedRecords: 1 });
  });

  it('writes aggregates through the emulator that decode back to every user record, in order', async () => {
    const kinesis = createKinesisClient({ endpoint: inject('kinesisEndpoint'), region: 'us-east-1' }, {});
    clients.push(kinesis);
    const stream = `kpl-${randomUUID().slice(0, 8)}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 20, minDelay: 0.1, maxDelay: 0.5 }, { StreamName: stream });

    const writer = new KinesisWriter({ client: kinesis, streamName: stream, aggregate: true, maxAggregatedBytes: 1024, lingerMs: 60_000 });
    const hot = Array.from({ length: 300 }, (_, i) => `HOT#${String(i).padStart(4, '0')}`);
    for (const d of hot) writer.write('HOT', Buffer.from(d));
    writer.write('COLD', Buffer.from('COLD#0000'));
    const { stats } = await writer.close();

    // Key "HOT" costs 5 bytes of table; each 8-byte record 14 (1 + 1 + inner of 2 + 1 + 1 + 8): within
    // 1,024 - 20 - 5 = 999 bytes, 71 records per aggregate: 71 × 4 + 16 = 300, so five aggregates.
    const got = await readStreamRecords(kinesis, stream);
    expect(got.map((r) => [r.partitionKey, isAggregated(r.data)])).toEqual([
      ['HOT', true],
      ['HOT', true],
      ['HOT', true],
      ['HOT', true],
      ['HOT', true],
      ['COLD', false],
    ]);
    const users = got.flatMap((r) => decodeAggregated(r.data) ?? [{ partitionKey: r.partitionKey, data: r.data }]);
    expect(users.map((u) => text(u.data))).toEqual([...hot, 'COLD#0000']);
    for (const r of got) {
      expect(r.data.length).toBeLessThanOrEqual(1024);
      for (const u of decodeAggregated(r.data) ?? []) expect(u.partitionKey).toBe(r.partitionKey);
    }
    expect(got.map((r) => (decodeAggregated(r.data) ?? [r]).length)).toEqual([71, 71, 71, 71, 16, 1]);
    expect(stats).toMatchObject({ accepted: 301, sent: 301, failed: 0, batches: 1, aggregatedRecords: 5 });
  });
});
