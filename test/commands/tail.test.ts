/**
 * `coattail tail`'s handler against the real Kinesis emulator: hand-written trades (plain records, a KPL
 * aggregate, and records that are not trades) printed as NDJSON or a table, the filters, --max, a stop
 * signal, and its options' one-line errors.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  CreateStreamCommand,
  PutRecordCommand,
  PutRecordsCommand,
  waitUntilStreamExists,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { parseFrom, tail, type TailOptions } from '../../src/commands/tail.js';
import { CoattailError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { encodeAggregated } from '../../src/kinesis/kpl.js';
import { testContext, waitFor } from '../helpers/context.js';

let client: KinesisClient | undefined;
afterEach(() => client?.destroy());

function trade(exchange: 'binance' | 'coinbase', symbol: string, id: number, price: number, quantity: number, quoteVolume: number) {
  return {
    schema_version: 1,
    event_id: `${exchange}:${symbol}:${id}`,
    exchange,
    symbol,
    trade_id: String(id),
    price,
    quantity,
    quote_volume: quoteVolume,
    side: id % 2 === 0 ? 'buy' : 'sell',
    timestamp: '2026-03-01T12:00:00.123Z',
    ingested_at: '2026-03-01T12:00:00.130Z',
  };
}

// Quote volumes worked out by hand: price × quantity.
const PLAIN = [
  trade('binance', 'BTC-USDT', 1, 65000, 0.5, 32500),
  trade('binance', 'ETH-USDT', 2, 3200, 0.25, 800),
  trade('coinbase', 'ETH-USD', 3, 3201.5, 2, 6403),
];
const PACKED = [trade('binance', 'ETH-USDT', 4, 3200, 1.5, 4800), trade('binance', 'ETH-USDT', 5, 3199, 0.1, 319.9)];
const ALL = [...PLAIN, ...PACKED];

async function streamWithTrades(): Promise<string> {
  client = createKinesisClient({ endpoint: inject('kinesisEndpoint') }, {});
  const name = `tail-${randomUUID().slice(0, 8)}`;
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  await waitUntilStreamExists({ client, maxWaitTime: 20, minDelay: 0.1, maxDelay: 0.5 }, { StreamName: name });
  const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
  await client.send(new PutRecordsCommand({ StreamName: name, Records: PLAIN.map((t) => ({ PartitionKey: t.symbol, Data: json(t) })) }));
  const packed = encodeAggregated(PACKED.map((t) => ({ partitionKey: t.symbol, data: json(t) })));
  await client.send(new PutRecordCommand({ StreamName: name, PartitionKey: 'ETH-USDT', Data: packed }));
  await client.send(new PutRecordCommand({ StreamName: name, PartitionKey: 'junk', Data: Buffer.from([0x00, 0xff, 0x10]) }));
  await client.send(new PutRecordCommand({ StreamName: name, PartitionKey: 'BTC-USDT', Data: json({ ...PLAIN[0], price: -1 }) }));
  return name;
}

function options(stream: string, extra: Partial<TailOptions> = {}): TailOptions {
  return {
    stream,
    from: 'trim-horizon',
    exitAtEnd: true,
    stateDir: '.coattail/local',
    kinesisEndpoint: inject('kinesisEndpoint'),
    ...extra,
  };
}

describe('coattail tail', () => {
  it('prints every unified trade as NDJSON, KPL-packed ones too, and counts the records that are not trades', async () => {
    const stream = await streamWithTrades();
    const ctx = testContext();
    expect(await tail(options(stream, { json: true }), ctx)).toBe(0);
    expect(ctx.out.lines().map((l) => JSON.parse(l) as unknown)).toEqual(ALL);
    const summary = JSON.parse(ctx.err.lines().at(-1)!) as Record<string, unknown>;
    expect(summary).toMatchObject({
      stream,
      printed: 5,
      not_trades: 2,
      filtered_out: 0,
      kinesis_records: 6,
      user_records: 7,
      aggregates: 1,
      stopped_by: 'end',
    });
    // The two records that are not trades are described on stderr, one line each.
    expect(ctx.err.text()).toMatch(/skipped: not JSON \(3 bytes, binary\)/);
    expect(ctx.err.text()).toMatch(/skipped: not a unified trade \(price: /);
  });

  it('keeps only --symbols and trades of at least --min-usd, and stops after --max', async () => {
    const stream = await streamWithTrades();
    const filtered = testContext();
    await tail(options(stream, { json: true, symbols: 'eth-usdt, ETH-USD', minUsd: '800' }), filtered);
    expect(filtered.out.lines().map((l) => (JSON.parse(l) as { event_id: string }).event_id)).toEqual([
      'binance:ETH-USDT:2',
      'coinbase:ETH-USD:3',
      'binance:ETH-USDT:4',
    ]);
    expect(JSON.parse(filtered.err.lines().at(-1)!)).toMatchObject({ printed: 3, filtered_out: 2 });

    const first = testContext();
    await tail(options(stream, { json: true, max: '2', exitAtEnd: false }), first);
    expect(first.out.lines().map((l) => (JSON.parse(l) as { event_id: string }).event_id)).toEqual([
      'binance:BTC-USDT:1',
      'binance:ETH-USDT:2',
    ]);
    expect(JSON.parse(first.err.lines().at(-1)!)).toMatchObject({ printed: 2, stopped_by: 'max' });
  });

  it('prints a table on a terminal, and stops cleanly on a signal', async () => {
    const stream = await streamWithTrades();
    const ctx = testContext({ env: { NO_COLOR: '1' } });
    ctx.logger = createLogger(ctx.err, { level: 'info' });
    ctx.out.isTTY = true;
    const done = tail(options(stream, { exitAtEnd: false }), ctx);
    await waitFor(() => ctx.out.lines().length === 1 + ALL.length, 10_000, 'the table');
    ctx.abort.abort();
    expect(await done).toBe(0);
    const [header, ...rows] = ctx.out.lines();
    expect(header).toMatch(/^time \(UTC\)\s+exchange\s+symbol\s+side\s+price\s+quantity\s+quote value$/);
    expect(rows[0]).toMatch(/^2026-03-01 12:00:00\.123\s+binance\s+BTC-USDT\s+sell\s+65000\s+0\.5\s+32,500\.00$/);
    expect(rows[4]).toMatch(/^2026-03-01 12:00:00\.123\s+binance\s+ETH-USDT\s+sell\s+3199\s+0\.1\s+319\.90$/);
    expect(ctx.err.text()).toMatch(/tail: 5 trades printed from 1 shard of tail-\w+ \(stopped by signal\)/);
  });

  it('a stream that does not exist is one line and a non-zero exit', async () => {
    client = createKinesisClient({ endpoint: inject('kinesisEndpoint') }, {});
    const err = await tail(options('no-such-stream'), testContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).exitCode).toBe(1);
    expect((err as CoattailError).line()).toBe(
      `coattail: stream 'no-such-stream' does not exist (at ${inject('kinesisEndpoint')}): Kinesis answered ResourceNotFoundException. ` +
        'Check --stream and --region (or --local / --kinesis-endpoint), or create it with the deploy stack or coattail local up',
    );
  });

  it.each([
    [{ max: '0' }, "--max '0' is not valid"],
    [{ max: '1e3' }, "--max '1e3' is not valid"],
    [{ minUsd: '-5' }, "--min-usd must be a number ≥ 0: got '-5'"],
    [{ minUsd: '2000000000000' }, '--min-usd 2000000000000 is out of range: it must be from 0 to 1000000000000'],
    [{ from: 'yesterday' }, "--from 'yesterday' is not a position"],
    [{ from: '2999-01-01T00:00:00Z' }, '--from 2999-01-01T00:00:00Z is in the future'],
    [{ from: '400d' }, '--from 400d is out of range'],
    [
      { from: '2026-01-15T09:30:00' },
      "--from '2026-01-15T09:30:00' is a time without its zone: it would be read in the zone of the machine that runs the tail. " +
        'Write it like 2026-01-15T09:30:00Z or 2026-01-15T10:30:00+01:00 (a bare date 2026-01-15 is midnight UTC)',
    ],
    [{ from: '2026-01-15 09:30' }, "--from '2026-01-15 09:30' is a time without its zone"],
    [{ symbols: 'BTCUSDT' }, "symbol 'BTCUSDT' is not BASE-QUOTE"],
    [{ symbols: ' , ' }, 'no symbols given'],
    [{ stream: 'trades/prod' }, "--stream 'trades/prod' is not a stream name"],
  ] as const)('%o is a usage error (exit 2) before anything is read', async (bad, message) => {
    const err = await tail({ ...options('never-read'), ...bad }, testContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).exitCode).toBe(2);
    expect((err as CoattailError).line()).toContain(message);
  });

  it('--from takes a look-back and an ISO time', async () => {
    const stream = await streamWithTrades();
    const recent = testContext();
    await tail(options(stream, { json: true, from: '10m' }), recent);
    expect(recent.out.lines()).toHaveLength(ALL.length);
    const now = testContext();
    // Every record arrived before now: from now on, none is printed.
    await tail(options(stream, { json: true, from: new Date().toISOString() }), now);
    expect(now.out.lines()).toHaveLength(0);
    expect(JSON.parse(now.err.lines().at(-1)!)).toMatchObject({ printed: 0, kinesis_records: 0 });
  });
});

describe('--from as a time', () => {
  const now = Date.parse('2026-03-01T00:00:00Z');
  it.each([
    // A bare date is midnight UTC; an offset is subtracted: 10:30 at +01:00 is 09:30 UTC, 04:00 at -05:30 is 09:30 UTC.
    ['2026-01-15', '2026-01-15T00:00:00.000Z'],
    ['2026-01-15T09:30:00Z', '2026-01-15T09:30:00.000Z'],
    ['2026-01-15T10:30:00+01:00', '2026-01-15T09:30:00.000Z'],
    ['2026-01-15T04:00:00.250-05:30', '2026-01-15T09:30:00.250Z'],
  ])('%s is the instant %s', (text, instant) => {
    const from = parseFrom(text, now);
    expect(from.type === 'AT_TIMESTAMP' ? from.timestamp.toISOString() : from.type).toBe(instant);
  });
});
