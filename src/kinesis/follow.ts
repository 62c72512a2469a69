/**
 * Follows a Kinesis stream as a consumer would: every shard read in sequence order, KPL aggregates unpacked
 * into their user records, and resharding followed — a closed shard is read to its end, then its children
 * (a merged child only once both parents are done), so records of one partition key come out in order.
 * Throttling (ProvisionedThroughputExceeded, LimitExceeded) backs off; an expired iterator is re-opened
 * after the last sequence number read. For `coattail tail`.
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { fullJitterDelay, sleep, type BackoffPolicy } from '../core/backoff.js';
import { CoattailError, errorMessage } from '../core/errors.js';
import { decodeAggregated } from './kpl.js';

export type StartPosition = { type: 'LATEST' } | { type: 'TRIM_HORIZON' } | { type: 'AT_TIMESTAMP'; timestamp: Date };

/** One user record: a plain Kinesis record, or one packed in a KPL aggregate. */
export interface FollowedRecord {
  shardId: string;
  sequenceNumber: string;
  /** Its place in its KPL aggregate; undefined for a plain record. */
  subSequenceNumber?: number;
  partitionKey: string;
  data: Uint8Array;
  /** Why the Kinesis record could not be unpacked (a KPL aggregate whose checksum matches but whose body is malformed). */
  malformed?: string;
}

export interface FollowStats {
  shardsStarted: number;
  shardsFinished: number;
  getRecordsCalls: number;
  kinesisRecords: number;
  userRecords: number;
  aggregates: number;
  throttled: number;
  expiredIterators: number;
}

export interface FollowOptions {
  client: KinesisClient;
  stream: string;
  from: StartPosition;
  /** Stops every shard's loop; `follow` then resolves. */
  signal: AbortSignal;
  /** Receives each GetRecords answer's user records, in order; awaited before the shard reads on. */
  onRecords: (records: FollowedRecord[]) => void | Promise<void>;
  /** Stop once every shard has been read up to its newest record (kcat -e). */
  exitAtEnd?: boolean;
  /** The wait before asking a caught-up shard again. */
  idleMs?: number;
  /** The least time between two GetRecords on one shard (AWS allows 5 a second per shard). */
  minCallIntervalMs?: number;
  throttleBackoff?: BackoffPolicy;
  /** A transient failure (network, 5xx) is retried this many times in a row before the tail fails. */
  maxTransientRetries?: number;
  /** Where the stream is, for error lines: "region eu-west-1" or "http://127.0.0.1:4568". */
  where?: string;
  onEvent?: (event: FollowEvent) => void;
  now?: () => number;
  random?: () => number;
}

export type FollowEvent =
  | { type: 'shard-start'; shardId: string; iterator: string }
  | { type: 'shard-end'; shardId: string; children: string[] }
  | { type: 'throttled'; what: string; waitMs: number; reason: string }
  | { type: 'iterator-expired'; shardId: string; after?: string }
  | { type: 'retry'; what: string; waitMs: number; reason: string };

const DEFAULTS = {
  idleMs: 1_000,
  minCallIntervalMs: 200,
  throttleBackoff: { baseMs: 500, capMs: 10_000 },
  maxTransientRetries: 8,
};
/** Most records one GetRecords may return. */
const GET_RECORDS_LIMIT = 10_000;

const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'LimitExceededException', 'KMSThrottlingException']);

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

function isTransient(err: unknown): boolean {
  const e = err as { $retryable?: unknown; $metadata?: { httpStatusCode?: number }; code?: string; name?: string };
  const status = e.$metadata?.httpStatusCode ?? 0;
  return (
    e.$retryable !== undefined ||
    status >= 500 ||
    ['TimeoutError', 'RequestTimeout', 'InternalFailure', 'ServiceUnavailable'].includes(e.name ?? '') ||
    ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(e.code ?? '')
  );
}

export function streamNotFound(stream: string, where: string | undefined): CoattailError {
  return new CoattailError(
    `stream '${stream}' does not exist${where ? ` (${where})` : ''}`,
    'Kinesis answered ResourceNotFoundException',
    'check --stream and --region (or --local / --kinesis-endpoint), or create it with the deploy stack or coattail local up',
  );
}

/** Every shard of the stream, open and closed, as ListShards pages them. */
export async function listAllShards(client: KinesisClient, stream: string, signal?: AbortSignal): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const out = await client.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: stream }), {
      ...(signal ? { abortSignal: signal } : {}),
    });
    shards.push(...(out.Shards ?? []));
    nextToken = out.NextToken;
  } while (nextToken);
  return shards;
}

/** The user records of one Kinesis record: a KPL aggregate's, or the record itself. */
export function unpack(
  shardId: string,
  r: { SequenceNumber?: string | undefined; PartitionKey?: string | undefined; Data?: Uint8Array | undefined },
): FollowedRecord[] {
  const data = r.Data ?? new Uint8Array();
  const base = { shardId, sequenceNumber: r.SequenceNumber ?? '', partitionKey: r.PartitionKey ?? '' };
  let inner;
  try {
    inner = decodeAggregated(data);
  } catch (err) {
    return [{ ...base, data, malformed: errorMessage(err) }];
  }
  if (!inner) return [{ ...base, data }];
  return inner.map((u, i) => ({ ...base, subSequenceNumber: i, partitionKey: u.partitionKey, data: u.data }));
}

interface ShardState {
  parents: string[];
  status: 'waiting' | 'reading' | 'done';
  caughtUp: boolean;
}

/** Reads the stream until `signal` aborts (or, with `exitAtEnd`, until every shard is caught up). */
export class StreamFollower {
  readonly stats: FollowStats = {
    shardsStarted: 0,
    shardsFinished: 0,
    getRecordsCalls: 0,
    kinesisRecords: 0,
    userRecords: 0,
    aggregates: 0,
    throttled: 0,
    expiredIterators: 0,
  };
  private readonly shards = new Map<string, ShardState>();
  private readonly running = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private failure: unknown;
  private readonly o: FollowOptions & typeof DEFAULTS;
  private readonly startedAt: number;

  constructor(opts: FollowOptions) {
    this.o = { ...DEFAULTS, ...opts };
    this.startedAt = (opts.now ?? Date.now)();
    const onAbort = (): void => this.stop.abort();
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }

  async run(): Promise<void> {
    const shards = await this.call('the shard list', () => listAllShards(this.o.client, this.o.stream, this.stop.signal));
    if (!shards) return; // stopped
    const ids = new Set(shards.map((s) => s.ShardId ?? ''));
    for (const s of shards) {
      const id = s.ShardId ?? '';
      const open = s.SequenceNumberRange?.EndingSequenceNumber === undefined;
      if (this.o.from.type === 'LATEST' && !open) continue;
      // From the oldest record or a time, a shard waits for those of its parents the stream still lists.
      const parents =
        this.o.from.type === 'LATEST' ? [] : [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p && ids.has(p));
      this.shards.set(id, { parents, status: 'waiting', caughtUp: false });
    }
    this.startReady(this.o.from);
    while (this.running.size > 0) await Promise.race(this.running);
    if (this.failure !== undefined) throw this.failure;
  }

  private startReady(position: StartPosition): void {
    for (const [id, s] of this.shards) {
      if (s.status !== 'waiting') continue;
      if (!s.parents.every((p) => this.shards.get(p)?.status !== 'reading' && this.shards.get(p)?.status !== 'waiting')) continue;
      s.status = 'reading';
      this.stats.shardsStarted += 1;
      const task = this.readShard(id, position)
        .catch((err: unknown) => {
          if (this.failure === undefined) this.failure = err;
          this.stop.abort();
        })
        .finally(() => this.running.delete(task));
      this.running.add(task);
    }
  }

  private async openIterator(shardId: string, position: StartPosition, after: string | undefined): Promise<string | undefined> {
    const input: GetShardIteratorCommandInput = { StreamName: this.o.stream, ShardId: shardId, ShardIteratorType: position.type };
    if (after !== undefined) {
      input.ShardIteratorType = 'AFTER_SEQUENCE_NUMBER';
      input.StartingSequenceNumber = after;
    } else if (position.type === 'AT_TIMESTAMP') input.Timestamp = position.timestamp;
    const out = await this.call(`shard ${shardId}`, () =>
      this.o.client.send(new GetShardIteratorCommand(input), { abortSignal: this.stop.signal }),
    );
    this.o.onEvent?.({ type: 'shard-start', shardId, iterator: input.ShardIteratorType ?? '' });
    return out?.ShardIterator;
  }

  private async readShard(shardId: string, position: StartPosition): Promise<void> {
    const state = this.shards.get(shardId)!;
    let last: string | undefined;
    // Re-opening a LATEST iterator would skip what arrived meanwhile: from the time it was first opened instead.
    const reopen: StartPosition = position.type === 'LATEST' ? { type: 'AT_TIMESTAMP', timestamp: new Date(this.startedAt) } : position;
    let iterator = await this.openIterator(shardId, position, undefined);
    let lastCall = 0;
    let children: string[] | undefined;
    while (iterator && !this.stop.signal.aborted) {
      const gap = lastCall + this.o.minCallIntervalMs - (this.o.now ?? Date.now)();
      if (gap > 0) await sleep(gap, this.stop.signal);
      lastCall = (this.o.now ?? Date.now)();
      let out;
      try {
        this.stats.getRecordsCalls += 1;
        out = await this.call(`shard ${shardId}`, () =>
          this.o.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT }), {
            abortSignal: this.stop.signal,
          }),
        );
      } catch (err) {
        if (errorName(err) !== 'ExpiredIteratorException') throw err;
        this.stats.expiredIterators += 1;
        this.o.onEvent?.({ type: 'iterator-expired', shardId, ...(last !== undefined ? { after: last } : {}) });
        iterator = await this.openIterator(shardId, last === undefined ? reopen : position, last);
        continue;
      }
      if (!out) return; // stopped
      const records = out.Records ?? [];
      // Set before the records are handed on: a shard that closed is not caught up until its children are read.
      state.caughtUp = !!out.NextShardIterator && records.length === 0 && (out.MillisBehindLatest ?? 0) === 0;
      const users: FollowedRecord[] = [];
      for (const r of records) {
        const unpacked = unpack(shardId, r);
        if (unpacked[0]?.subSequenceNumber !== undefined) this.stats.aggregates += 1;
        users.push(...unpacked);
      }
      this.stats.kinesisRecords += records.length;
      this.stats.userRecords += users.length;
      if (users.length > 0) await this.o.onRecords(users);
      if (records.length > 0) last = records[records.length - 1]!.SequenceNumber ?? last;
      iterator = out.NextShardIterator;
      if (!iterator) {
        children = out.ChildShards?.map((c) => c.ShardId ?? '').filter((c) => c !== '');
        break;
      }
      if (state.caughtUp) {
        if (this.o.exitAtEnd && this.allCaughtUp()) this.stop.abort();
        await sleep(this.o.idleMs, this.stop.signal);
      }
    }
    if (this.stop.signal.aborted) return;
    this.stats.shardsFinished += 1;
    // Still reading (and not caught up) until its children are registered: --exit-at-end waits for them.
    const adopted = await this.adoptChildren(shardId, children);
    if (adopted === undefined) return; // stopped
    state.status = 'done';
    this.o.onEvent?.({ type: 'shard-end', shardId, children: adopted });
    this.startReady(this.o.from.type === 'AT_TIMESTAMP' ? this.o.from : { type: 'TRIM_HORIZON' });
  }

  /** Registers a closed shard's children, to be read from their oldest record or from the time asked for. */
  private async adoptChildren(shardId: string, fromAnswer: string[] | undefined): Promise<string[] | undefined> {
    let children = fromAnswer;
    let parentsOf = new Map<string, string[]>();
    if (!children || children.length === 0 || children.some((c) => !this.shards.has(c))) {
      // ListShards knows every child's parents (GetRecords' ChildShards may be absent on older endpoints).
      const all = await this.call(`the children of shard ${shardId}`, () => listAllShards(this.o.client, this.o.stream, this.stop.signal));
      if (!all) return undefined;
      parentsOf = new Map(all.map((s) => [s.ShardId ?? '', [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p)]));
      children = all.filter((s) => parentsOf.get(s.ShardId ?? '')?.includes(shardId)).map((s) => s.ShardId ?? '');
    }
    for (const c of children) {
      if (this.shards.has(c)) continue;
      // A parent this tail never read (not listed when it started) does not hold its child back.
      const parents = (parentsOf.get(c) ?? [shardId]).filter((p) => this.shards.has(p));
      this.shards.set(c, { parents, status: 'waiting', caughtUp: false });
    }
    return children;
  }

  private allCaughtUp(): boolean {
    for (const s of this.shards.values()) if (s.status !== 'done' && !s.caughtUp) return false;
    return true;
  }

  /**
   * One call, with the waits Kinesis asks for: throttling backs off with full jitter (indefinitely: the
   * limit is per second), a transient failure is retried a few times. Undefined once stopped.
   */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    let throttles = 0;
    let transient = 0;
    for (;;) {
      if (this.stop.signal.aborted) return undefined;
      try {
        return await fn();
      } catch (err) {
        if (this.stop.signal.aborted) return undefined;
        const name = errorName(err);
        if (name === 'ExpiredIteratorException') throw err;
        if (name === 'ResourceNotFoundException') throw streamNotFound(this.o.stream, this.o.where);
        const random = this.o.random ?? Math.random;
        if (THROTTLED.has(name)) {
          const waitMs = fullJitterDelay(throttles++, this.o.throttleBackoff, random);
          this.stats.throttled += 1;
          this.o.onEvent?.({ type: 'throttled', what, waitMs, reason: name });
          await sleep(waitMs, this.stop.signal);
        } else if (isTransient(err) && transient < this.o.maxTransientRetries) {
          const waitMs = fullJitterDelay(transient++, this.o.throttleBackoff, random);
          this.o.onEvent?.({ type: 'retry', what, waitMs, reason: `${name}: ${errorMessage(err)}` });
          await sleep(waitMs, this.stop.signal);
        } else throw this.wrap(err, `cannot read ${what} of`);
      }
    }
  }

  private wrap(err: unknown, what: string): unknown {
    if (err instanceof CoattailError) return err;
    if (errorName(err) === 'ResourceNotFoundException') return streamNotFound(this.o.stream, this.o.where);
    const name = errorName(err);
    return new CoattailError(
      `${what} stream '${this.o.stream}'${this.o.where ? ` (${this.o.where})` : ''}`,
      `${name && name !== 'Error' ? `${name}: ` : ''}${errorMessage(err).split('\n')[0]}`,
      'check the credentials, the region and the network, then try again',
    );
  }
}
