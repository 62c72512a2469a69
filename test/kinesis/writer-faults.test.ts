/**
 * The Kinesis writer under failures the emulator cannot produce (throttling, partial failures, service
 * errors, a stalled service), with the SDK mocked at its boundary. Backoff randomness is injected.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AccessDeniedException,
  KinesisClient,
  ProvisionedThroughputExceededException,
  PutRecordsCommand,
  ResourceNotFoundException,
  ValidationException,
  type PutRecordsInput,
  type PutRecordsOutput,
} from '@aws-sdk/client-kinesis';
import { CoattailError } from '../../src/core/errors.js';
import { classifyCallError } from '../../src/kinesis/failures.js';
import { KinesisWriter, type KinesisWriterOptions } from '../../src/kinesis/writer.js';
import { captureLogger, waitFor } from '../helpers/context.js';

const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');

function newClient(): KinesisClient {
  return new KinesisClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

/** A PutRecords answer: entries whose index is in `failures` fail with that code, the rest succeed. */
function answer(input: PutRecordsInput, failures: Map<number, string> = new Map()): PutRecordsOutput {
  const records = (input.Records ?? []).map((_, i) => {
    const code = failures.get(i);
    return code
      ? { ErrorCode: code, ErrorMessage: `${code} for entry ${i}` }
      : { SequenceNumber: `seq-${i}`, ShardId: 'shardId-000000000000' };
  });
  return { FailedRecordCount: failures.size, Records: records };
}

/** The entries of each PutRecords call, as `key:payload`. */
function sentEntries(mock: ReturnType<typeof mockClient>): string[][] {
  return mock.commandCalls(PutRecordsCommand).map((c) => (c.args[0].input.Records ?? []).map((r) => `${r.PartitionKey}:${text(r.Data)}`));
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const fast: Partial<KinesisWriterOptions> = { lingerMs: 60_000, random: () => 0, retry: { baseMs: 1, capMs: 4, deadlineMs: 60_000 } };

describe('KinesisWriter failures (SDK mocked)', () => {
  const clients: KinesisClient[] = [];
  const setup = (): { client: KinesisClient; mock: ReturnType<typeof mockClient> } => {
    const client = newClient();
    clients.push(client);
    return { client, mock: mockClient(client) };
  };
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });

  it('resends only the entries that failed in a partial failure', async () => {
    const { client, mock } = setup();
    mock
      .on(PutRecordsCommand)
      .callsFakeOnce(async (input: PutRecordsInput) =>
        answer(
          input,
          new Map([
            [1, 'ProvisionedThroughputExceededException'],
            [3, 'InternalFailure'],
          ]),
        ),
      )
      .callsFake(async (input: PutRecordsInput) => answer(input));
    const writer = new KinesisWriter({ client, streamName: 'trades', ...fast });
    for (let i = 0; i < 5; i++) writer.write(`K${i}`, bytes(`r${i}`));
    const { stats, undelivered } = await writer.close();

    expect(sentEntries(mock)).toEqual([
      ['K0:r0', 'K1:r1', 'K2:r2', 'K3:r3', 'K4:r4'],
      ['K1:r1', 'K3:r3'],
    ]);
    expect(mock.commandCalls(PutRecordsCommand)[1]?.args[0].input.StreamName).toBe('trades');
    expect(undelivered).toEqual([]);
    expect(stats).toEqual({
      accepted: 5,
      sent: 5,
      retried: 2,
      failed: 0,
      lost: 0,
      buffered: 0,
      held: 0,
      inFlight: 0,
      batches: 2,
      throttled: 1,
      aggregatedRecords: 0,
    });
  });

  it('resends the whole batch after a network error', async () => {
    const { client, mock } = setup();
    mock
      .on(PutRecordsCommand)
      .rejectsOnce(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4568'), { code: 'ECONNREFUSED' }))
      .callsFake(async (input: PutRecordsInput) => answer(input));
    const { logger, records } = captureLogger();
    const writer = new KinesisWriter({ client, streamName: 'trades', ...fast, logger });
    writer.write('BTC-USDT', bytes('a'));
    writer.write('ETH-USDT', bytes('b'));
    const { stats } = await writer.close();

    expect(sentEntries(mock)).toEqual([
      ['BTC-USDT:a', 'ETH-USDT:b'],
      ['BTC-USDT:a', 'ETH-USDT:b'],
    ]);
    expect(stats).toMatchObject({ sent: 2, retried: 2, batches: 2, throttled: 0, failed: 0 });
    const warn = records().find((r) => r.level === 'warn');
    expect(warn).toMatchObject({
      msg: 'PutRecords failed; resending the batch',
      error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4568',
    });
  });

  it('rides out a throttling storm with backoff and sends everything exactly once', async () => {
    const { client, mock } = setup();
    const delivered: string[] = [];
    let calls = 0;
    mock.on(PutRecordsCommand).callsFake(async (input: PutRecordsInput) => {
      calls += 1;
      // The first call is refused whole; the next four refuse every even entry; then all goes through.
      if (calls === 1)
        throw new ProvisionedThroughputExceededException({
          message: 'Rate exceeded for stream trades',
          $metadata: { httpStatusCode: 400 },
        });
      const entries = input.Records ?? [];
      const failures = new Map<number, string>();
      if (calls <= 5) entries.forEach((_, i) => i % 2 === 0 && failures.set(i, 'ProvisionedThroughputExceededException'));
      entries.forEach((r, i) => failures.has(i) || delivered.push(text(r.Data)));
      return answer(input, failures);
    });
    const draws: number[] = [];
    const random = (): number => {
      draws.push(1);
      return 0.5;
    };
    const writer = new KinesisWriter({
      client,
      streamName: 'trades',
      lingerMs: 60_000,
      maxBatchRecords: 16,
      maxInFlight: 1,
      random,
      retry: { baseMs: 1, capMs: 8, deadlineMs: 60_000 },
    });
    for (let i = 0; i < 16; i++) writer.write('SOL-USDT', bytes(`t${i}`));
    const { stats, undelivered } = await writer.close();

    // Entries per call: 16 (refused whole), 16 (8 even refused), 8 (4), 4 (2), 2 (1), then the last 1.
    expect(mock.commandCalls(PutRecordsCommand).map((c) => c.args[0].input.Records?.length)).toEqual([16, 16, 8, 4, 2, 1]);
    expect(undelivered).toEqual([]);
    expect([...delivered].sort()).toEqual(Array.from({ length: 16 }, (_, i) => `t${i}`).sort());
    expect(stats).toMatchObject({ accepted: 16, sent: 16, failed: 0, batches: 6 });
    expect(stats.throttled).toBe(16 + 8 + 4 + 2 + 1);
    expect(stats.retried).toBe(16 + 8 + 4 + 2 + 1);
    // One jittered backoff before each of the five resends.
    expect(draws).toHaveLength(5);
  });

  it('stops with a clear one-line error when the stream does not exist', async () => {
    const { client, mock } = setup();
    mock.on(PutRecordsCommand).rejects(
      new ResourceNotFoundException({
        message: 'Stream trades under account 123456789012 not found.',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const writer = new KinesisWriter({ client, streamName: 'trades', ...fast, lingerMs: 1 });
    const fatal = new Promise<CoattailError>((resolve) => writer.onFatal(resolve));
    writer.write('BTC-USDT', bytes('a'));
    writer.write('BTC-USDT', bytes('b'));
    const err = await fatal;

    expect(err).toBeInstanceOf(CoattailError);
    expect(err.line()).toBe(
      "coattail: cannot write to Kinesis stream 'trades': the stream was not found in region eu-west-1 " +
        '(ResourceNotFoundException: Stream trades under account 123456789012 not found.). ' +
        "Create it (aws kinesis create-stream --stream-name trades), or run 'coattail local up' and ingest with --local",
    );
    expect(() => writer.write('BTC-USDT', bytes('c'))).toThrow(err);
    const { stats, undelivered } = await writer.close();
    expect(mock.commandCalls(PutRecordsCommand)).toHaveLength(1); // not retried
    expect(undelivered.map((u) => text(u.data))).toEqual(['a', 'b']);
    expect(undelivered[0]?.reason).toBe(`not sent: ${err.message}`);
    expect(stats).toMatchObject({ accepted: 2, sent: 0, failed: 2, buffered: 0 });
  });

  it('stops on access denied and on an invalid request, each with what to do', async () => {
    for (const [error, expected] of [
      [
        new AccessDeniedException({ message: 'User is not authorized to perform kinesis:PutRecords', $metadata: {} }),
        'Grant these credentials kinesis:PutRecords on the stream',
      ],
      [new ValidationException({ message: 'Records too large', $metadata: {} }), 'Check the stream name, region and endpoint'],
    ] as const) {
      const { client, mock } = setup();
      mock.on(PutRecordsCommand).rejects(error);
      const writer = new KinesisWriter({ client, streamName: 'trades', ...fast });
      const fatal = new Promise<CoattailError>((resolve) => writer.onFatal(resolve));
      writer.write('K', bytes('x'));
      void writer.close();
      const err = await fatal;
      expect(err.line()).toContain(`${error.name}: ${error.message}`);
      expect(err.line()).toContain(expected);
      expect(err.line()).not.toContain('\n');
    }
  });

  it('stops when a partial failure carries a KMS error resending cannot fix', async () => {
    const { client, mock } = setup();
    mock.on(PutRecordsCommand).callsFake(async (input: PutRecordsInput) => answer(input, new Map([[0, 'KMSDisabledException']])));
    const writer = new KinesisWriter({ client, streamName: 'trades', ...fast });
    writer.write('K', bytes('x'));
    writer.write('K', bytes('y'));
    const { stats, undelivered } = await writer.close();
    expect(writer.fatalError()?.line()).toContain("the stream's KMS key cannot be used (KMSDisabledException");
    expect(stats).toMatchObject({ sent: 1, failed: 1, batches: 1 });
    expect(undelivered.map((u) => text(u.data))).toEqual(['x']);
  });

  it('pushes back at the high-water mark while the service stalls, and drains once it answers', async () => {
    const { client, mock } = setup();
    const stall = deferred<void>();
    mock
      .on(PutRecordsCommand)
      .callsFakeOnce(async (input: PutRecordsInput) => {
        await stall.promise;
        return answer(input);
      })
      .callsFake(async (input: PutRecordsInput) => answer(input));
    const writer = new KinesisWriter({ client, streamName: 'trades', ...fast, maxBatchRecords: 5, maxInFlight: 1, highWaterRecords: 10 });
    let drains = 0;
    const drained = new Promise<void>((resolve) =>
      writer.onDrain(() => {
        drains += 1;
        resolve();
      }),
    );
    const results: boolean[] = [];
    for (let i = 0; i < 12; i++) results.push(writer.write('BTC-USDT', bytes(`t${i}`)));

    // true for the first nine, false from the tenth (the high-water mark) on; nothing refused.
    expect(results).toEqual([true, true, true, true, true, true, true, true, true, false, false, false]);
    expect(writer.stats()).toMatchObject({ accepted: 12, buffered: 12, inFlight: 1, sent: 0 });
    expect(drains).toBe(0);

    stall.resolve();
    await drained;
    expect(drains).toBe(1);
    expect(writer.stats().buffered).toBeLessThan(5);
    const { stats } = await writer.close();
    expect(stats).toMatchObject({ accepted: 12, sent: 12, failed: 0 });
    expect(drains).toBe(1);
  });

  it('pushes back on bytes too', async () => {
    const { client, mock } = setup();
    mock.on(PutRecordsCommand).callsFake(() => new Promise(() => undefined));
    const writer = new KinesisWriter({ client, streamName: 'trades', ...fast, highWaterBytes: 1000 });
    // Each record weighs 1 (key) + 299 bytes = 300: 900 is under 1000, 1200 is over.
    expect([1, 2, 3, 4].map(() => writer.write('K', new Uint8Array(299)))).toEqual([true, true, true, false]);
    expect((await writer.close({ deadlineMs: 10 })).undelivered).toHaveLength(4);
  });

  it('gives up on an entry after the retry deadline and hands it back', async () => {
    const { client, mock } = setup();
    let now = 0;
    const clock = { now: () => now };
    mock.on(PutRecordsCommand).callsFake(async (input: PutRecordsInput) => {
      now += 400; // each call takes 400 ms of the injected clock
      const failures = new Map<number, string>();
      (input.Records ?? []).forEach((r, i) => text(r.Data) === 'B' && failures.set(i, 'InternalFailure'));
      return answer(input, failures);
    });
    const { logger, records } = captureLogger();
    const writer = new KinesisWriter({
      client,
      streamName: 'trades',
      ...fast,
      clock,
      logger,
      retry: { baseMs: 1, capMs: 4, deadlineMs: 1000 },
    });
    for (const p of ['A', 'B', 'C']) writer.write('K', bytes(p));
    const { stats, undelivered } = await writer.close();

    // B is sent at 0, 400 and 800 ms of the clock; after the third answer the clock reads 1200, past 1000.
    expect(sentEntries(mock)).toEqual([['K:A', 'K:B', 'K:C'], ['K:B'], ['K:B']]);
    expect(undelivered).toEqual([
      {
        partitionKey: 'K',
        data: bytes('B'),
        reason: 'retry deadline of 1000 ms passed after 3 attempt(s); last error: InternalFailure: InternalFailure for entry 0',
      },
    ]);
    expect(stats).toEqual({
      accepted: 3,
      sent: 2,
      retried: 2,
      failed: 1,
      lost: 0,
      buffered: 0,
      held: 0,
      inFlight: 0,
      batches: 3,
      throttled: 0,
      aggregatedRecords: 0,
    });
    expect(records().filter((r) => r.level === 'error')).toEqual([
      expect.objectContaining({ msg: 'records not delivered to Kinesis', records: 1, stream: 'trades' }),
    ]);
  });

  it('hands back every user record of an aggregate that missed its deadline', async () => {
    const { client, mock } = setup();
    let now = 0;
    mock.on(PutRecordsCommand).callsFake(async () => {
      now += 600;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    });
    const writer = new KinesisWriter({
      client,
      streamName: 'trades',
      ...fast,
      aggregate: true,
      clock: { now: () => now },
      retry: { baseMs: 1, capMs: 4, deadlineMs: 1000 },
    });
    for (const p of ['a1', 'a2', 'a3']) writer.write('A', bytes(p));
    const { stats, undelivered } = await writer.close();
    expect(undelivered.map((u) => [u.partitionKey, text(u.data)])).toEqual([
      ['A', 'a1'],
      ['A', 'a2'],
      ['A', 'a3'],
    ]);
    expect(undelivered[0]?.reason).toBe('retry deadline of 1000 ms passed after 2 attempt(s); last error: ECONNRESET: socket hang up');
    expect(stats).toMatchObject({ accepted: 3, failed: 3, sent: 0, batches: 2, aggregatedRecords: 1 });
  });

  it('hands back what is still unconfirmed at the close deadline', async () => {
    const { client, mock } = setup();
    mock.on(PutRecordsCommand).callsFake(() => new Promise(() => undefined)); // never answers
    const writer = new KinesisWriter({ client, streamName: 'trades', ...fast, maxBatchRecords: 2, maxInFlight: 1 });
    for (const p of ['a', 'b', 'c']) writer.write('K', bytes(p));
    const { stats, undelivered } = await writer.close({ deadlineMs: 50 });
    expect(undelivered).toEqual([
      { partitionKey: 'K', data: bytes('c'), reason: 'not sent before the close deadline of 50 ms' },
      { partitionKey: 'K', data: bytes('a'), reason: 'close deadline passed while PutRecords was in flight; it may have been delivered' },
      { partitionKey: 'K', data: bytes('b'), reason: 'close deadline passed while PutRecords was in flight; it may have been delivered' },
    ]);
    expect(stats).toMatchObject({ accepted: 3, sent: 0, failed: 3, buffered: 0, inFlight: 0 });
  });

  it('keeps each call within 500 records and 5 MiB by default', async () => {
    const { client, mock } = setup();
    mock.on(PutRecordsCommand).callsFake(async (input: PutRecordsInput) => answer(input));
    const writer = new KinesisWriter({ client, streamName: 'trades', ...fast });
    // 600 records of 10 KiB: 511 would fit in 5 MiB, so the 500-record limit cuts first.
    for (let i = 0; i < 600; i++) writer.write('SMALL', new Uint8Array(10 * 1024));
    // 100 records of 60 KiB + 3-byte key = 61,443 bytes: 5,242,880 / 61,443 = 85.3, so 85 per call.
    for (let i = 0; i < 100; i++) writer.write('BIG', new Uint8Array(60 * 1024));
    await writer.close();
    const calls = mock.commandCalls(PutRecordsCommand).map((c) => c.args[0].input.Records ?? []);
    const summary = calls.map((recs) => ({
      SMALL: recs.filter((r) => r.PartitionKey === 'SMALL').length,
      BIG: recs.filter((r) => r.PartitionKey === 'BIG').length,
      bytes: recs.reduce((n, r) => n + (r.PartitionKey?.length ?? 0) + (r.Data?.length ?? 0), 0),
    }));
    // 500 SMALL; then 100 SMALL (1,024,500 bytes) + 68 BIG (4,178,124 bytes) = 5,202,624, a 69th BIG is over;
    // then 32 BIG at close.
    expect(summary).toEqual([
      { SMALL: 500, BIG: 0, bytes: 500 * 10_245 },
      { SMALL: 100, BIG: 68, bytes: 100 * 10_245 + 68 * 61_443 },
      { SMALL: 0, BIG: 32, bytes: 32 * 61_443 },
    ]);
  });

  it('refuses a record over 1 MiB or with a bad partition key, and accepts one exactly at the limit', async () => {
    const { client, mock } = setup();
    mock.on(PutRecordsCommand).callsFake(() => new Promise(() => undefined));
    const writer = new KinesisWriter({ client, streamName: 'trades', ...fast });
    expect(() => writer.write('abc', new Uint8Array(1024 * 1024 - 2))).toThrow(
      "cannot write a record to Kinesis: it is 1048577 bytes with its partition key 'abc', over the 1048576-byte (1 MiB) record limit. Send smaller records",
    );
    expect(writer.write('abc', new Uint8Array(1024 * 1024 - 3))).toBe(true);
    expect(() => writer.write('', bytes('x'))).toThrow(/partition key has 0 characters/);
    expect(() => writer.write('k'.repeat(257), bytes('x'))).toThrow(/partition key has 257 characters/);
    expect(writer.stats().accepted).toBe(1);
    expect((await writer.close({ deadlineMs: 10 })).stats.failed).toBe(1);
  });

  it('classifies call failures: resend, throttle or stop', () => {
    const cases: Array<[unknown, string]> = [
      [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'retry'],
      [Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'retry'],
      [
        Object.assign(new Error('Service Unavailable'), {
          name: 'ServiceUnavailable',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
        }),
        'retry',
      ],
      [Object.assign(new Error('Bad Gateway'), { name: 'Unknown', $metadata: { httpStatusCode: 502 } }), 'retry'],
      [new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }), 'throttle'],
      [Object.assign(new Error('slow down'), { name: 'ThrottlingException', $fault: 'client' }), 'throttle'],
      [Object.assign(new Error('too many'), { name: 'Whatever', $metadata: { httpStatusCode: 429 } }), 'throttle'],
      [new ResourceNotFoundException({ message: 'gone', $metadata: {} }), 'fatal'],
      [new AccessDeniedException({ message: 'no', $metadata: {} }), 'fatal'],
      [new ValidationException({ message: 'bad', $metadata: {} }), 'fatal'],
      [
        Object.assign(new Error('bad key'), { name: 'UnrecognizedClientException', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
        'fatal',
      ],
      [Object.assign(new Error('odd'), { name: 'SomethingNew', $fault: 'client', $metadata: { httpStatusCode: 400 } }), 'fatal'],
      [new TypeError('cannot read properties of undefined'), 'fatal'],
    ];
    expect(cases.map(([err]) => classifyCallError(err).kind)).toEqual(cases.map(([, kind]) => kind));
  });

  it('sends a lingering batch on time and does not send partial batches before', async () => {
    const { client, mock } = setup();
    mock.on(PutRecordsCommand).callsFake(async (input: PutRecordsInput) => answer(input));
    const writer = new KinesisWriter({ client, streamName: 'trades', ...fast, lingerMs: 30 });
    writer.write('K', bytes('a'));
    writer.write('K', bytes('b'));
    expect(mock.commandCalls(PutRecordsCommand)).toHaveLength(0);
    await waitFor(() => writer.stats().sent === 2, 5_000, 'the lingered batch');
    expect(sentEntries(mock)).toEqual([['K:a', 'K:b']]);
    await writer.close();
  });
});
