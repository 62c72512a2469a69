/**
 * Trades the Kinesis writer gives up on are on disk the moment it gives up, not at exit: a long
 * outage must not pile them up in memory, and a crash right after must not lose them.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { DeleteStreamCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, inject, it } from 'vitest';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { KinesisSink } from '../../src/ingest/kinesis-sink.js';
import { CoattailError } from '../../src/core/errors.js';
import { UndeliveredFile } from '../../src/ingest/undelivered-file.js';
import { KinesisWriter } from '../../src/kinesis/writer.js';
import { ensureStream } from '../../src/local/resources.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { captureLogger, tempDir, waitFor } from '../helpers/context.js';

const trade = (id: number): UnifiedTrade => ({
  schema_version: 1,
  event_id: `binance:BTC-USDT:${id}`,
  exchange: 'binance',
  symbol: 'BTC-USDT',
  trade_id: String(id),
  price: 60000,
  quantity: 1,
  quote_volume: 60000,
  side: 'buy',
  timestamp: '2024-05-01T12:00:00.000Z',
  ingested_at: '2024-05-01T12:00:00.001Z',
});

describe('undelivered trades', () => {
  it('are appended to the file as soon as the retry deadline passes, while the run goes on', async () => {
    const client = new KinesisClient({ region: 'eu-west-1', credentials: { accessKeyId: 't', secretAccessKey: 't' }, maxAttempts: 1 });
    const mock = mockClient(client);
    const outage = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
    mock.on(PutRecordsCommand).rejects(outage);
    const writer = new KinesisWriter({
      client,
      streamName: 'trades',
      lingerMs: 5,
      random: () => 0,
      retry: { baseMs: 5, capMs: 20, deadlineMs: 150 },
    });
    const sink = new KinesisSink(writer);
    const dir = tempDir('undelivered');
    const spill = new UndeliveredFile(dir, Date.UTC(2024, 4, 1, 12));
    sink.onUndelivered((records) => spill.append(records));

    for (let id = 1; id <= 3; id++) sink.write(trade(id), JSON.stringify(trade(id)));
    // Each record has its own deadline (its accept time + 150 ms): on a busy machine they can pass at two retries.
    await waitFor(() => spill.saved() === 3, 5_000, 'all three in the file');
    // Written before close(): the writer is still open.
    const lines = readFileSync(spill.file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { partition_key: string; reason: string; record: string });
    expect(lines.map((l) => JSON.parse(l.record) as UnifiedTrade)).toEqual([trade(1), trade(2), trade(3)]);
    expect(lines.every((l) => l.partition_key === 'BTC-USDT')).toBe(true);
    expect(lines[0]!.reason).toMatch(/^retry deadline of 150 ms passed after \d+ attempt\(s\); last error: .*ECONNREFUSED/);
    expect(path.basename(spill.file)).toBe('trades-2024-05-01T12-00-00-000Z.ndjson');
    expect(sink.stats()).toMatchObject({ accepted: 3, sent: 0, failed: 3 });
    expect(mock.commandCalls(PutRecordsCommand).length).toBeGreaterThan(1);
    await sink.close(1_000);
    expect(spill.saved()).toBe(3);
    client.destroy();
  });
});

/** A KinesisSink over a writer whose every PutRecords is refused (Kinesis unreachable), giving up after `deadlineMs`. */
function unreachable(opts: { deadlineMs: number; highWaterRecords?: number }) {
  const client = new KinesisClient({ region: 'eu-west-1', credentials: { accessKeyId: 't', secretAccessKey: 't' }, maxAttempts: 1 });
  mockClient(client)
    .on(PutRecordsCommand)
    .rejects(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }));
  const log = captureLogger();
  const writer = new KinesisWriter({
    client,
    streamName: 'trades',
    lingerMs: 5,
    random: () => 0,
    retry: { baseMs: 5, capMs: 20, deadlineMs: opts.deadlineMs },
    ...(opts.highWaterRecords ? { highWaterRecords: opts.highWaterRecords } : {}),
    logger: log.logger,
  });
  return { client, writer, sink: new KinesisSink(writer), log };
}

/** A folder that cannot be made: a file is where it should be. (chmod does not stop root; this does.) */
function blockedDir(): { dir: string; unblock: () => void } {
  const root = tempDir('blocked');
  const dir = path.join(root, 'undelivered');
  writeFileSync(dir, 'a file in the way\n');
  return { dir, unblock: () => rmSync(dir) };
}

const savedTrades = (file: string): UnifiedTrade[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse((JSON.parse(l) as { record: string }).record) as UnifiedTrade);

describe('undelivered trades when the folder cannot be written', () => {
  it('stay held and counted once, the buffer pushing back, until the folder can be written', async () => {
    const { client, writer, sink, log } = unreachable({ deadlineMs: 100, highWaterRecords: 10 });
    const blocked = blockedDir();
    const spill = new UndeliveredFile(blocked.dir, Date.UTC(2024, 4, 1, 12));
    sink.onUndelivered((records) => spill.append(records));
    let drains = 0;
    sink.onDrain(() => (drains += 1));

    const accepted = Array.from({ length: 10 }, (_, i) => sink.write(trade(i + 1), JSON.stringify(trade(i + 1))));
    expect(accepted.at(-1)).toBe(false); // at the high-water mark: the exchanges are paused
    // Records reach their retry deadline a millisecond apart at most, so they may be given up in several goes.
    const logged = (msg: string) => log.records().filter((r) => r.msg === msg);
    const total = (msg: string) => logged(msg).reduce((n, r) => n + Number(r.records), 0);
    await waitFor(() => total('records not delivered to Kinesis') >= 10, 5_000, 'the writer to give up on all 10');
    // Given up once, not twice; still buffered (held), so the exchanges stay paused.
    expect(writer.stats()).toMatchObject({ accepted: 10, sent: 0, failed: 0, buffered: 10, held: 10, lost: 0 });
    expect(drains).toBe(0);
    expect(total('could not keep the records not delivered; holding them and trying again')).toBe(10);
    for (const r of logged('could not keep the records not delivered; holding them and trying again'))
      expect(r.error).toMatch(/ENOTDIR|EEXIST/);

    blocked.unblock();
    await waitFor(() => spill.saved() === 10, 5_000, 'the held trades to be saved');
    expect(savedTrades(spill.file)).toEqual(Array.from({ length: 10 }, (_, i) => trade(i + 1)));
    expect(writer.stats()).toMatchObject({ accepted: 10, failed: 10, buffered: 0, held: 0, lost: 0 });
    await waitFor(() => drains === 1, 5_000, 'the buffer to drain');
    const { undelivered } = await writer.close({ deadlineMs: 1_000 });
    expect(undelivered).toEqual([]);
    client.destroy();
  });

  it('that no place takes even at close are counted as lost, once, and handed back by close()', async () => {
    const { client, writer, sink } = unreachable({ deadlineMs: 50 });
    const spill = new UndeliveredFile([blockedDir().dir, blockedDir().dir], Date.UTC(2024, 4, 1, 12));
    sink.onUndelivered((records) => spill.append(records));
    for (let id = 1; id <= 4; id++) sink.write(trade(id), JSON.stringify(trade(id)));
    const { stats, undelivered } = await writer.close({ deadlineMs: 2_000 });
    expect(stats).toMatchObject({ accepted: 4, sent: 0, failed: 4, lost: 4, buffered: 0, held: 0 });
    expect(undelivered.map((u) => (JSON.parse(Buffer.from(u.data).toString('utf8')) as UnifiedTrade).trade_id)).toEqual([
      '1',
      '2',
      '3',
      '4',
    ]);
    expect(sink.stats()).toMatchObject({ failed: 4, lost: 4 });
    expect(spill.saved()).toBe(0);
    client.destroy();
  });

  it('go to the next place in order when one cannot be written, and say where', () => {
    const first = blockedDir();
    const second = path.join(tempDir('second'), 'undelivered');
    const log = captureLogger();
    const spill = new UndeliveredFile([first.dir, second], Date.UTC(2024, 4, 1, 12), log.logger);
    const record = (id: number) => ({ partitionKey: 'BTC-USDT', data: JSON.stringify(trade(id)), reason: 'test' });

    const file = spill.append([record(1), record(2)]);
    expect(file).toBe(path.join(second, 'trades-2024-05-01T12-00-00-000Z.ndjson'));
    expect(savedTrades(file)).toEqual([trade(1), trade(2)]);
    const warn = log.records().find((r) => r.level === 'warn');
    expect(warn).toMatchObject({ msg: 'undelivered trades saved in a fallback place', file, count: 2 });
    expect(warn?.because).toContain(path.join(first.dir, 'trades-2024-05-01T12-00-00-000Z.ndjson'));
    // Once in the fallback, the trades stay together there.
    first.unblock();
    expect(spill.append([record(3)])).toBe(file);
    expect(spill.files()).toEqual([file]);
    expect(spill.saved()).toBe(3);
  });

  it('throws one clear error naming every place when none takes them', () => {
    const a = blockedDir();
    const b = blockedDir();
    const spill = new UndeliveredFile([a.dir, b.dir], Date.UTC(2024, 4, 1, 12));
    let err: unknown;
    try {
      spill.append([{ partitionKey: 'BTC-USDT', data: '{}', reason: 'test' }]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).line()).toMatch(
      new RegExp(
        `^coattail: cannot save 1 undelivered trades: no place could take them \\(${a.dir}/trades-.*; ${b.dir}/trades-.*\\)\\. Free disk space`,
      ),
    );
    expect(spill.saved()).toBe(0);
    expect(spill.files()).toEqual([]);
  });
});

describe('trades that arrive after the Kinesis writer stopped for good', () => {
  it('are counted and saved in the same file as the ones it gave up on (the stream deleted mid-run, on the emulator)', async () => {
    const client = createKinesisClient({ endpoint: inject('kinesisEndpoint') }, {});
    const stream = `after-stop-${Date.now()}`;
    await ensureStream(client, stream, 1);
    const writer = new KinesisWriter({ client, streamName: stream, lingerMs: 0 });
    const sink = new KinesisSink(writer);
    const spill = new UndeliveredFile(tempDir('after-stop'), Date.UTC(2024, 4, 1, 12));
    sink.onUndelivered((records) => spill.append(records));
    const fatal = new Promise<Error>((resolve) => sink.onFatal(resolve));

    sink.write(trade(1), JSON.stringify(trade(1)));
    await waitFor(() => sink.stats().sent === 1, 10_000, 'the first trade to be delivered');
    await client.send(new DeleteStreamCommand({ StreamName: stream }));
    sink.write(trade(2), JSON.stringify(trade(2)));
    const err = await fatal;
    // The writer has stopped for good; the exchanges may still hand over what they had sent.
    expect(sink.write(trade(3), JSON.stringify(trade(3)))).toBe(true);
    sink.write(trade(4), JSON.stringify(trade(4)));
    await sink.close(1_000);

    expect(sink.stats()).toEqual({ accepted: 4, sent: 1, retried: 0, failed: 3, lost: 0, buffered: 0 });
    expect(savedTrades(spill.file)).toEqual([trade(2), trade(3), trade(4)]);
    const reasons = readFileSync(spill.file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { reason: string }).reason);
    expect(reasons).toEqual([`not sent: ${err.message}`, `not sent: ${err.message}`, `not sent: ${err.message}`]);
    expect(spill.saved()).toBe(3);
    client.destroy();
  });
});
