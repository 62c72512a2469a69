/**
 * Trades the Kinesis writer gives up on are on disk the moment it gives up, not at exit: a long
 * outage must not pile them up in memory, and a crash right after must not lose them.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { KinesisSink } from '../../src/ingest/kinesis-sink.js';
import { UndeliveredFile } from '../../src/ingest/undelivered-file.js';
import { KinesisWriter } from '../../src/kinesis/writer.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { waitFor } from '../helpers.js';

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
    const writer = new KinesisWriter({ client, streamName: 'trades', lingerMs: 5, random: () => 0, retry: { baseMs: 5, capMs: 20, deadlineMs: 150 } });
    const sink = new KinesisSink(writer);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coattail-undelivered-'));
    const spill = new UndeliveredFile(dir, Date.UTC(2024, 4, 1, 12));
    sink.onUndelivered((records) => spill.append(records));

    for (let id = 1; id <= 3; id++) sink.write(trade(id), JSON.stringify(trade(id)));
    await waitFor(() => existsSync(spill.file), 5_000, 'the file');
    // Written before close(): the writer is still open.
    const lines = readFileSync(spill.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { partition_key: string; reason: string; record: string });
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
