/**
 * The Kinesis writer against the real emulator (kinesis-local): what arrives in the stream, how the
 * PutRecords calls are cut, lingering, closing, and an outage of the emulator itself.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { CreateStreamCommand, waitUntilStreamExists, type KinesisClient, type PutRecordsInput } from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { readStreamRecords } from '../../src/kinesis/read-stream.js';
import { KinesisWriter } from '../../src/kinesis/writer.js';
import { waitFor } from '../helpers/context.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

async function createStream(client: KinesisClient, shards: number): Promise<string> {
  const name = `writer-${randomUUID().slice(0, 8)}`;
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitUntilStreamExists({ client, maxWaitTime: 20, minDelay: 0.1, maxDelay: 0.5 }, { StreamName: name });
  return name;
}

/**
 * A TCP relay in front of the emulator that can be cut (connections reset, then refused, as when the
 * endpoint goes down) and restored on the same port.
 */
class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    private readonly target: URL,
    private port: number,
  ) {}

  static async start(target: URL): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, 0);
    await proxy.restore();
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  restore(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(Number(this.target.port), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    return new Promise((resolve) =>
      server.listen(this.port, '127.0.0.1', () => {
        const addr = server.address();
        if (addr && typeof addr === 'object') this.port = addr.port;
        resolve();
      }),
    );
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  close(): Promise<void> {
    return this.cut();
  }
}

interface PutCall {
  records: number;
  bytes: number;
}

/** Every PutRecords request the client sends, as it leaves (before the SDK's own retries). */
function observePutRecords(client: KinesisClient): PutCall[] {
  const calls: PutCall[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutRecordsCommand') {
        const input = args.input as PutRecordsInput;
        const bytes = (input.Records ?? []).reduce((n, r) => n + Buffer.byteLength(r.PartitionKey ?? '') + (r.Data?.length ?? 0), 0);
        calls.push({ records: input.Records?.length ?? 0, bytes });
      }
      return next(args);
    },
    { step: 'initialize', name: 'observePutRecords' },
  );
  return calls;
}

describe('KinesisWriter against the Kinesis emulator', () => {
  const endpoint = inject('kinesisEndpoint');
  const clients: KinesisClient[] = [];
  const client = (): KinesisClient => {
    const c = createKinesisClient({ endpoint, region: 'us-east-1' }, {});
    clients.push(c);
    return c;
  };
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });

  it('delivers 1,234 records over several keys exactly once, in PutRecords calls of at most 500', async () => {
    const kinesis = client();
    const stream = await createStream(kinesis, 4);
    const calls = observePutRecords(kinesis);
    const writer = new KinesisWriter({ client: kinesis, streamName: stream, lingerMs: 20 });
    const keys = ['BTC-USDT', 'ETH-USDT', 'SOL-USDT', 'DOGE-USDT', 'XRP-USDT'];
    const expected: string[] = [];
    for (let i = 0; i < 1234; i++) {
      const key = keys[i % keys.length] as string;
      const payload = `${key}#${i}`;
      expected.push(payload);
      expect(writer.write(key, Buffer.from(payload))).toBe(true);
    }
    const { stats, undelivered } = await writer.close();

    expect(undelivered).toEqual([]);
    expect(stats).toMatchObject({ accepted: 1234, sent: 1234, failed: 0, buffered: 0, inFlight: 0, retried: 0 });
    // Written synchronously: two full batches go out as they fill, the rest (1234 - 1000) at close.
    expect(calls.map((c) => c.records)).toEqual([500, 500, 234]);
    expect(stats.batches).toBe(3);

    const got = await readStreamRecords(kinesis, stream);
    const payloads = got.map((r) => text(r.data));
    expect(payloads).toHaveLength(1234);
    expect(new Set(payloads).size).toBe(1234);
    expect([...payloads].sort()).toEqual([...expected].sort());
    for (const r of got) expect(r.partitionKey).toBe(text(r.data).split('#')[0]);
    // The same key always lands on one shard.
    for (const key of keys) expect(new Set(got.filter((r) => r.partitionKey === key).map((r) => r.shardId)).size).toBe(1);
  });

  it('cuts PutRecords calls by bytes with big records', async () => {
    // The emulator takes seconds per MiB, so the byte limit is lowered here; the default 5 MiB limit
    // is checked without the emulator in writer-faults.test.ts.
    const kinesis = client();
    const stream = await createStream(kinesis, 1);
    const calls = observePutRecords(kinesis);
    const maxBatchBytes = 256 * 1024;
    const writer = new KinesisWriter({ client: kinesis, streamName: stream, lingerMs: 20, maxBatchBytes });
    const body = 10 * 1024;
    for (let i = 0; i < 60; i++) {
      const data = Buffer.alloc(body, 0x61);
      data.write(String(i).padStart(4, '0'));
      writer.write('BIG', data);
    }
    const { stats } = await writer.close();

    // Each record is 10,240 + 3 (key) = 10,243 bytes; 262,144 bytes hold 25 of them (256,075; 26 would
    // be 266,318): so 25, 25, then 60 - 50 = 10.
    expect(calls.map((c) => c.records)).toEqual([25, 25, 10]);
    expect(calls.map((c) => c.bytes)).toEqual([256_075, 256_075, 102_430]);
    expect(stats.sent).toBe(60);
    const got = await readStreamRecords(kinesis, stream);
    // Concurrent calls may land in any order: compare as sets.
    expect(got.map((r) => text(r.data.subarray(0, 4))).sort()).toEqual(Array.from({ length: 60 }, (_, i) => String(i).padStart(4, '0')));
    expect(got.every((r) => r.partitionKey === 'BIG' && r.data.length === body)).toBe(true);
  });

  it('sends a few records once the linger time has passed, without waiting for close', async () => {
    const kinesis = client();
    const stream = await createStream(kinesis, 1);
    const calls = observePutRecords(kinesis);
    const writer = new KinesisWriter({ client: kinesis, streamName: stream, lingerMs: 50 });
    for (const p of ['a', 'b', 'c']) writer.write('ETH-USDT', Buffer.from(p));
    // Nothing leaves before the linger time: the batch is far from full.
    expect(writer.stats().batches).toBe(0);

    await waitFor(() => writer.stats().sent === 3, 10_000, 'the lingered batch');
    expect(calls.map((c) => c.records)).toEqual([3]);
    const got = await readStreamRecords(kinesis, stream);
    expect(got.map((r) => [r.partitionKey, text(r.data)])).toEqual([
      ['ETH-USDT', 'a'],
      ['ETH-USDT', 'b'],
      ['ETH-USDT', 'c'],
    ]);
    await writer.close();
  });

  it('close() flushes what is still lingering', async () => {
    const kinesis = client();
    const stream = await createStream(kinesis, 2);
    const writer = new KinesisWriter({ client: kinesis, streamName: stream, lingerMs: 60_000 });
    for (let i = 0; i < 7; i++) writer.write(`K${i % 2}`, Buffer.from(`r${i}`));
    expect(writer.stats()).toMatchObject({ accepted: 7, sent: 0, buffered: 7, batches: 0 });

    const { stats, undelivered } = await writer.close({ deadlineMs: 10_000 });
    expect(undelivered).toEqual([]);
    expect(stats).toMatchObject({ accepted: 7, sent: 7, buffered: 0, batches: 1 });
    const got = await readStreamRecords(kinesis, stream);
    expect(got.map((r) => `${r.partitionKey}:${text(r.data)}`).sort()).toEqual([
      'K0:r0',
      'K0:r2',
      'K0:r4',
      'K0:r6',
      'K1:r1',
      'K1:r3',
      'K1:r5',
    ]);
    expect(() => writer.write('K0', Buffer.from('late'))).toThrow(/writer is closed/);
  });

  it('holds and pushes back while Kinesis is unreachable, then delivers everything it accepted', async () => {
    const kinesis = client();
    const stream = await createStream(kinesis, 1);
    const proxy = await TcpProxy.start(new URL(endpoint));
    try {
      const viaProxy = createKinesisClient({ endpoint: proxy.url, region: 'us-east-1', maxAttempts: 1 }, {});
      clients.push(viaProxy);
      await proxy.cut();

      const writer = new KinesisWriter({
        client: viaProxy,
        streamName: stream,
        lingerMs: 10,
        maxBatchRecords: 50,
        highWaterRecords: 100,
        retry: { baseMs: 20, capMs: 100, deadlineMs: 60_000 },
      });
      let drains = 0;
      writer.onDrain(() => (drains += 1));
      const accepted: boolean[] = [];
      for (let i = 0; i < 150; i++) accepted.push(writer.write('BTC-USDT', Buffer.from(`t${i}`)));
      // Push-back from the 100th record on; every record is kept all the same.
      expect(accepted.indexOf(false)).toBe(99);
      expect(accepted.slice(99).every((ok) => !ok)).toBe(true);
      await waitFor(() => writer.stats().batches >= 8, 10_000, 'resends while Kinesis is unreachable');
      expect(writer.stats()).toMatchObject({ sent: 0, failed: 0, buffered: 150 });
      expect(drains).toBe(0);

      await proxy.restore();
      await waitFor(() => drains === 1, 10_000, 'drain once Kinesis is back');
      const { stats, undelivered } = await writer.close({ deadlineMs: 10_000 });
      expect(undelivered).toEqual([]);
      expect(stats).toMatchObject({ accepted: 150, sent: 150, failed: 0 });
      expect(stats.retried).toBeGreaterThan(0);
      const got = await readStreamRecords(kinesis, stream);
      expect(got.map((r) => text(r.data)).sort()).toEqual(Array.from({ length: 150 }, (_, i) => `t${i}`).sort());
    } finally {
      await proxy.close();
    }
  });
});
