/**
 * A Kinesis producer: batches records into PutRecords calls (flushed when a batch is full or after a
 * short linger), keeps a few calls in flight, resends only what failed with jittered backoff, and pushes
 * back on its caller through a bounded buffer instead of growing without limit. A record it accepted is
 * delivered, or handed back in `undelivered` with the reason: never dropped silently. A record handed
 * back stays held (and counted in the buffer) until the undelivered listener takes it.
 *
 * Order: records of one key keep their order within a call; a resent entry may land after records
 * written later (as with the KPL), and concurrent calls may land in any order.
 */
import { PutRecordsCommand, type KinesisClient, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { fullJitterDelay, sleep } from '../core/backoff.js';
import { CoattailError, errorMessage, usageError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { systemClock, type Clock } from '../core/time.js';
import { Batcher, userRecordsOf, type Entry } from './batcher.js';
import { classifyCallError, classifyEntryError, fatalWriteError, type Failure } from './failures.js';
import type { UserRecord } from './kpl.js';
import { MAX_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_PARTITION_KEY_CHARS, MAX_RECORD_BYTES } from './limits.js';

export interface RetryPolicy {
  baseMs: number;
  capMs: number;
  /** Give up on a record this long after it was accepted. */
  deadlineMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 100, capMs: 10_000, deadlineMs: 10 * 60_000 };
export const DEFAULT_CLOSE_DEADLINE_MS = 30_000;

export interface KinesisWriterOptions {
  client: KinesisClient;
  streamName: string;
  /** Records per PutRecords call (at most 500). */
  maxBatchRecords?: number;
  /** Bytes per PutRecords call, data plus partition keys (at most 5 MiB). */
  maxBatchBytes?: number;
  /** Longest a record waits for its batch to fill. */
  lingerMs?: number;
  /** Concurrent PutRecords calls. */
  maxInFlight?: number;
  /** write() returns false once this many records are buffered... */
  highWaterRecords?: number;
  /** ...or this many bytes. */
  highWaterBytes?: number;
  /** Pack records that share a partition key into KPL aggregates. */
  aggregate?: boolean;
  /** Largest aggregate (one Kinesis record), well under the 1 MiB record limit. */
  maxAggregatedBytes?: number;
  retry?: RetryPolicy;
  logger?: Logger;
  random?: () => number;
  clock?: Clock;
}

export interface WriterStats {
  /** User records accepted by write(). */
  accepted: number;
  /** User records Kinesis confirmed. */
  sent: number;
  /** Kinesis entries resent after a failure (an aggregate counts once). */
  retried: number;
  /** User records given up on: taken by the undelivered listener, or (without one, or refused to the end) returned by close(). */
  failed: number;
  /** User records accepted and not yet sent or failed, in flight and held included. */
  buffered: number;
  /** Given-up user records the undelivered listener refused so far: held, and offered again. */
  held: number;
  /** Given-up user records the listener never took, not even at close: counted in failed, returned by close(). */
  lost: number;
  /** PutRecords batches in progress: being sent or waiting to be resent. */
  inFlight: number;
  /** PutRecords calls made, resends included. */
  batches: number;
  /** Kinesis entries refused by throttling (per entry, or a whole call). */
  throttled: number;
  /** KPL aggregates built (Kinesis records carrying two or more user records). */
  aggregatedRecords: number;
}

export interface UndeliveredRecord extends UserRecord {
  reason: string;
}

interface HeldRecords {
  records: UndeliveredRecord[];
  bytes: number;
  /** The listeners that have not taken them yet. */
  waiting: Array<(records: UndeliveredRecord[]) => void>;
}

export interface CloseResult {
  stats: WriterStats;
  undelivered: UndeliveredRecord[];
}

function positiveInt(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw usageError(`invalid Kinesis writer setting ${name}=${value}`, `it must be a whole number from 1 to ${max}`, `Fix ${name}`);
  }
  return value;
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted at the close deadline'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

export class KinesisWriter {
  private readonly client: KinesisClient;
  private readonly streamName: string;
  private readonly maxInFlight: number;
  private readonly lingerMs: number;
  private readonly highWaterRecords: number;
  private readonly highWaterBytes: number;
  private readonly retry: RetryPolicy;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly batcher: Batcher;

  private readonly counters = { accepted: 0, sent: 0, retried: 0, failed: 0, lost: 0, batches: 0, throttled: 0 };
  private bufferedRecords = 0;
  private bufferedBytes = 0;
  private inFlight = 0;
  /** Given-up records, kept for close() while nobody listens to onUndelivered (or the listener refused them to the end). */
  private readonly undelivered: UndeliveredRecord[] = [];
  private readonly undeliveredListeners: Array<(records: UndeliveredRecord[]) => void> = [];
  /** Entries handed to PutRecords and not yet confirmed or given up on. */
  private readonly outstanding = new Set<Entry>();
  /** Entries confirmed or given up on: a second verdict on one is ignored, so nothing counts twice. */
  private readonly settled = new WeakSet<Entry>();
  /** Given-up records a listener refused (it threw): still buffered, offered again with backoff. */
  private held: HeldRecords[] = [];
  private heldTimer: NodeJS.Timeout | undefined;
  private heldAttempt = 0;
  private lastRefusal: string | undefined;
  /** close() made its last offer: a refusal now loses the records. */
  private finished = false;

  private lingerTimer: NodeJS.Timeout | undefined;
  /** The linger time has passed (or close asked): send partial batches too. */
  private flushDue = false;
  private needDrain = false;
  private closing = false;
  private fatal: CoattailError | undefined;
  private region: string | undefined;
  private closePromise: Promise<CloseResult> | undefined;
  /** Aborted at the close deadline: in-flight calls and backoff waits stop. */
  private readonly abort = new AbortController();
  /** Aborted when the writer stops (fatal error or close deadline): backoff waits end early. */
  private readonly wake = new AbortController();
  private readonly drainListeners: Array<() => void> = [];
  private readonly fatalListeners: Array<(err: CoattailError) => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(opts: KinesisWriterOptions) {
    this.client = opts.client;
    this.streamName = opts.streamName;
    const maxBatchRecords = positiveInt('maxBatchRecords', opts.maxBatchRecords ?? MAX_BATCH_RECORDS, MAX_BATCH_RECORDS);
    const maxBatchBytes = positiveInt('maxBatchBytes', opts.maxBatchBytes ?? MAX_BATCH_BYTES, MAX_BATCH_BYTES);
    this.maxInFlight = positiveInt('maxInFlight', opts.maxInFlight ?? 4);
    this.lingerMs = opts.lingerMs ?? 100;
    if (!(this.lingerMs >= 0))
      throw usageError(`invalid Kinesis writer setting lingerMs=${this.lingerMs}`, 'it must be 0 or more', 'Fix lingerMs');
    this.highWaterRecords = positiveInt('highWaterRecords', opts.highWaterRecords ?? 20_000);
    this.highWaterBytes = positiveInt('highWaterBytes', opts.highWaterBytes ?? 64 * 1024 * 1024);
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.logger = opts.logger ?? silentLogger;
    this.random = opts.random ?? Math.random;
    this.clock = opts.clock ?? systemClock;
    const maxAggregatedBytes = opts.aggregate
      ? positiveInt('maxAggregatedBytes', opts.maxAggregatedBytes ?? 256 * 1024, MAX_RECORD_BYTES)
      : undefined;
    this.batcher = new Batcher({ maxBatchRecords, maxBatchBytes, ...(maxAggregatedBytes ? { maxAggregatedBytes } : {}) });
  }

  /**
   * Accepts the record (never drops it). Returns false when the buffer is at its high-water mark: the
   * caller must stop producing (pause its sockets) until onDrain. Throws CoattailError if the writer has
   * failed fatally or is closed, or if the record is over the Kinesis limits.
   */
  write(partitionKey: string, data: Uint8Array): boolean {
    if (this.fatal) throw this.fatal;
    if (this.closing) {
      throw new CoattailError('cannot accept a record for Kinesis', 'the writer is closed', 'Stop producing before closing the writer');
    }
    // Counted in code points, as Kinesis does; a string of at most 256 UTF-16 units cannot have more.
    const chars = partitionKey.length <= MAX_PARTITION_KEY_CHARS ? partitionKey.length : [...partitionKey].length;
    if (chars < 1 || chars > MAX_PARTITION_KEY_CHARS) {
      throw new CoattailError(
        'cannot write a record to Kinesis',
        `its partition key has ${chars} characters; Kinesis takes 1 to ${MAX_PARTITION_KEY_CHARS}`,
        'Give every record a partition key of 1 to 256 characters',
      );
    }
    const keyBytes = Buffer.byteLength(partitionKey, 'utf8');
    const size = keyBytes + data.length;
    if (size > MAX_RECORD_BYTES) {
      throw new CoattailError(
        'cannot write a record to Kinesis',
        `it is ${size} bytes with its partition key '${partitionKey.slice(0, 40)}', over the ${MAX_RECORD_BYTES}-byte (1 MiB) record limit`,
        'Send smaller records',
      );
    }
    this.counters.accepted += 1;
    this.bufferedRecords += 1;
    this.bufferedBytes += size;
    this.batcher.add(partitionKey, keyBytes, data, this.clock.now() + this.retry.deadlineMs);
    this.pump();
    if (this.bufferedRecords >= this.highWaterRecords || this.bufferedBytes >= this.highWaterBytes) this.needDrain = true;
    return !this.needDrain;
  }

  /** Called (each time) the buffer falls below half its high-water marks after write() returned false. */
  onDrain(cb: () => void): void {
    this.drainListeners.push(cb);
  }

  /** Called once with a one-line error when writing cannot go on (stream missing, access denied, invalid request). */
  onFatal(cb: (err: CoattailError) => void): void {
    this.fatalListeners.push(cb);
    const fatal = this.fatal;
    if (fatal) queueMicrotask(() => cb(fatal)); // registered after the fact: still told
  }

  /**
   * Called as records are given up on, so the caller can keep them safe at once (a long outage must
   * not pile them up in memory until exit). With a listener, close() no longer returns them. A listener
   * that throws refuses them: they stay held and buffered (write() keeps pushing back), are offered
   * again with backoff and at close, and only what is refused even then is returned by close().
   */
  onUndelivered(cb: (records: UndeliveredRecord[]) => void): void {
    this.undeliveredListeners.push(cb);
  }

  /** The error that stopped the writer, if one did. */
  fatalError(): CoattailError | undefined {
    return this.fatal;
  }

  /** Why write() no longer takes records (a fatal error, or close), or undefined while it does. */
  stopReason(): string | undefined {
    if (this.fatal) return this.fatal.message;
    return this.closing ? 'the Kinesis writer was closed' : undefined;
  }

  /**
   * Takes a record the writer can no longer send (it stopped for good, or is closed) straight to the
   * undelivered path: counted as accepted and failed, held if the listener refuses it, like the
   * records the writer gave up on.
   */
  setAside(partitionKey: string, data: Uint8Array, reason: string): void {
    const size = Buffer.byteLength(partitionKey, 'utf8') + data.length;
    this.counters.accepted += 1;
    this.bufferedRecords += 1;
    this.bufferedBytes += size;
    this.logger.error('records not delivered to Kinesis', { stream: this.streamName, records: 1, reason });
    this.handOff([{ partitionKey, data, reason }], size);
  }

  /**
   * Every record accepted and not yet confirmed or taken by the undelivered listener: waiting, in
   * flight (Kinesis may have those too) and held. For a last-resort save when the process must exit now.
   */
  unsettled(): UndeliveredRecord[] {
    const out: UndeliveredRecord[] = [];
    for (const e of this.outstanding) {
      for (const r of userRecordsOf(e)) out.push({ ...r, reason: 'in flight at exit: not confirmed, Kinesis may also have it' });
    }
    for (const r of this.batcher.records()) out.push({ ...r, reason: 'not sent before exit' });
    for (const h of this.held) out.push(...h.records);
    return out;
  }

  stats(): WriterStats {
    return {
      ...this.counters,
      buffered: this.bufferedRecords,
      held: this.held.reduce((n, h) => n + h.records.length, 0),
      inFlight: this.inFlight,
      aggregatedRecords: this.batcher.aggregatesBuilt,
    };
  }

  /**
   * Flushes everything accepted and waits for it, up to deadlineMs. Records not delivered by then are
   * counted in stats.failed and returned with the reason. Calling it again returns the same result.
   */
  close(opts: { deadlineMs?: number } = {}): Promise<CloseResult> {
    this.closePromise ??= this.finish(opts.deadlineMs ?? DEFAULT_CLOSE_DEADLINE_MS);
    return this.closePromise;
  }

  private async finish(deadlineMs: number): Promise<CloseResult> {
    this.closing = true;
    this.pump();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.whenIdle().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), deadlineMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.abort.abort();
      this.wake.abort();
      this.giveUp(this.batcher.takeAll(), () => `not sent before the close deadline of ${deadlineMs} ms`);
      await this.whenIdle();
    }
    this.clearLinger();
    this.finished = true;
    clearTimeout(this.heldTimer);
    this.offerHeld();
    const result = { stats: this.stats(), undelivered: [...this.undelivered] };
    this.logger.debug('Kinesis writer closed', { ...result.stats });
    return result;
  }

  /** Starts batches while there are free slots and something worth sending, and keeps the linger timer. */
  private pump(): void {
    if (this.fatal || this.abort.signal.aborted) return;
    while (this.inFlight < this.maxInFlight && this.batcher.count > 0) {
      if (!this.batcher.full() && !this.flushDue && !this.closing) break;
      this.launch(this.batcher.take());
    }
    if (this.batcher.count === 0) {
      this.flushDue = false;
      this.clearLinger();
    } else if (!this.flushDue && !this.lingerTimer && !this.closing) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.flushDue = true;
        this.pump();
      }, this.lingerMs);
    }
  }

  private clearLinger(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  private launch(batch: Entry[]): void {
    this.inFlight += 1;
    for (const e of batch) this.outstanding.add(e);
    void this.deliver(batch).finally(() => {
      this.inFlight -= 1;
      this.pump();
      this.checkDrain();
      this.checkIdle();
    });
  }

  /** Sends one batch until every entry is confirmed or given up; resends only the entries that failed. */
  private async deliver(batch: Entry[]): Promise<void> {
    let entries = batch;
    try {
      this.region ??= await this.resolveRegion();
      for (let round = 0; entries.length > 0; round += 1) {
        if (round > 0) await sleep(this.backoffDelay(round - 1, entries), this.wake.signal);
        entries = this.dropExpired(entries);
        if (entries.length === 0) break;
        if (this.fatal) {
          this.giveUp(entries, () => `not sent: ${this.fatal?.message}`);
          return;
        }
        if (this.abort.signal.aborted) {
          this.giveUp(entries, (e) => `close deadline passed while waiting to resend; last error: ${e.lastError ?? 'none'}`);
          return;
        }
        entries = await this.sendOnce(entries, round);
      }
    } catch (err) {
      // Our own bug: hand the records back rather than lose them.
      this.logger.error('Kinesis writer failed unexpectedly', { error: errorMessage(err) });
      this.giveUp(entries, () => `internal error: ${errorMessage(err)}`);
    }
  }

  /** One PutRecords call; returns the entries to resend. */
  private async sendOnce(entries: Entry[], round: number): Promise<Entry[]> {
    if (round > 0) this.counters.retried += entries.length;
    this.counters.batches += 1;
    for (const e of entries) e.attempts += 1;
    const request = new PutRecordsCommand({
      StreamName: this.streamName,
      Records: entries.map((e) => ({ PartitionKey: e.partitionKey, Data: e.data })),
    });
    let out: PutRecordsCommandOutput;
    try {
      out = await untilAborted(this.client.send(request, { abortSignal: this.abort.signal }), this.abort.signal);
    } catch (err) {
      if (this.abort.signal.aborted) {
        this.giveUp(entries, () => 'close deadline passed while PutRecords was in flight; it may have been delivered');
        return [];
      }
      return this.callFailed(entries, classifyCallError(err));
    }
    return this.settle(entries, out);
  }

  private callFailed(entries: Entry[], failure: Failure): Entry[] {
    if (failure.kind === 'fatal') {
      const fatal = this.stop(failure);
      this.giveUp(entries, () => `not sent: ${fatal.message}`);
      return [];
    }
    if (failure.kind === 'throttle') this.counters.throttled += entries.length;
    this.logger.warn('PutRecords failed; resending the batch', {
      stream: this.streamName,
      error: `${failure.code}: ${failure.message}`,
      entries: entries.length,
      attempt: entries[0]?.attempts,
    });
    for (const e of entries) e.lastError = `${failure.code}: ${failure.message}`;
    return this.dropExpired(entries);
  }

  private settle(entries: Entry[], out: PutRecordsCommandOutput): Entry[] {
    const results = out.Records ?? [];
    if (results.length !== entries.length) {
      this.logger.warn('PutRecords answered with a different number of results; resending the batch', {
        sent: entries.length,
        results: results.length,
      });
      for (const e of entries) e.lastError = 'malformed PutRecords response';
      return this.dropExpired(entries);
    }
    const failed: Entry[] = [];
    let fatal: Failure | undefined;
    entries.forEach((e, i) => {
      const code = results[i]?.ErrorCode;
      if (!code) return this.delivered(e);
      const failure = classifyEntryError(code, results[i]?.ErrorMessage);
      if (failure.kind === 'throttle') this.counters.throttled += 1;
      if (failure.kind === 'fatal') fatal ??= failure;
      e.lastError = `${failure.code}: ${failure.message}`;
      failed.push(e);
    });
    this.checkDrain();
    if (failed.length === 0) return [];
    this.logger.debug('PutRecords partly failed; resending the failed entries', {
      stream: this.streamName,
      failed: failed.length,
      of: entries.length,
      first: failed[0]?.lastError,
    });
    if (fatal) {
      const err = this.stop(fatal);
      this.giveUp(failed, () => `not sent: ${err.message}`);
      return [];
    }
    return this.dropExpired(failed);
  }

  private delivered(e: Entry): void {
    if (this.settled.has(e)) return;
    this.settled.add(e);
    this.outstanding.delete(e);
    this.counters.sent += e.userRecords;
    this.bufferedRecords -= e.userRecords;
    this.bufferedBytes -= e.userBytes;
  }

  private backoffDelay(attempt: number, entries: Entry[]): number {
    const delay = fullJitterDelay(attempt, this.retry, this.random);
    // Wake up in time to give up on an entry at its deadline rather than a whole backoff later.
    const soonest = Math.min(...entries.map((e) => e.deadlineAt)) - this.clock.now();
    return Math.max(0, Math.min(delay, soonest));
  }

  private dropExpired(entries: Entry[]): Entry[] {
    const now = this.clock.now();
    const expired = entries.filter((e) => e.deadlineAt <= now);
    if (expired.length === 0) return entries;
    this.giveUp(
      expired,
      (e) => `retry deadline of ${this.retry.deadlineMs} ms passed after ${e.attempts} attempt(s); last error: ${e.lastError ?? 'none'}`,
    );
    return entries.filter((e) => e.deadlineAt > now);
  }

  /** Hands records back in `undelivered` with the reason, logged: the only way a record leaves unsent. */
  private giveUp(entries: Entry[], reason: (e: Entry) => string): void {
    const open = entries.filter((e) => !this.settled.has(e));
    if (open.length === 0) return;
    let bytes = 0;
    const given: UndeliveredRecord[] = [];
    for (const e of open) {
      this.settled.add(e);
      this.outstanding.delete(e);
      const why = reason(e);
      for (const r of userRecordsOf(e)) given.push({ ...r, reason: why });
      bytes += e.userBytes;
    }
    this.logger.error('records not delivered to Kinesis', {
      stream: this.streamName,
      records: given.length,
      reason: reason(open[0] as Entry),
    });
    this.handOff(given, bytes);
  }

  /** To the listeners (or kept for close() when there are none); what they refuse stays held. */
  private handOff(records: UndeliveredRecord[], bytes: number): void {
    if (this.undeliveredListeners.length === 0) {
      this.undelivered.push(...records);
      this.release(records.length, bytes);
      return;
    }
    const held: HeldRecords = { records, bytes, waiting: [...this.undeliveredListeners] };
    if (this.offer(held)) {
      this.release(records.length, bytes);
      return;
    }
    if (this.finished) {
      this.lose(held);
      return;
    }
    this.held.push(held);
    this.logger.error('could not keep the records not delivered; holding them and trying again', {
      records: records.length,
      error: this.lastRefusal,
    });
    this.scheduleHeldOffer();
  }

  /** True once every listener has taken the records; a listener that throws is asked again later. */
  private offer(held: HeldRecords): boolean {
    held.waiting = held.waiting.filter((cb) => {
      try {
        cb(held.records);
        return false;
      } catch (err) {
        this.lastRefusal = errorMessage(err);
        return true;
      }
    });
    return held.waiting.length === 0;
  }

  /** Offers the held records again; at close (finished), what is still refused is lost. */
  private offerHeld(): void {
    const still: HeldRecords[] = [];
    for (const h of this.held) {
      if (this.offer(h)) this.release(h.records.length, h.bytes);
      else if (this.finished) this.lose(h);
      else still.push(h);
    }
    this.held = still;
    if (still.length === 0) this.heldAttempt = 0;
    else this.scheduleHeldOffer();
  }

  private scheduleHeldOffer(): void {
    if (this.heldTimer || this.finished) return;
    const delay = Math.min(this.retry.capMs, this.retry.baseMs * 2 ** Math.min(this.heldAttempt, 30));
    this.heldAttempt += 1;
    this.heldTimer = setTimeout(() => {
      this.heldTimer = undefined;
      this.offerHeld();
    }, delay);
  }

  /** Records no listener would take, even at the end: counted, returned by close(), said loudly. */
  private lose(held: HeldRecords): void {
    this.counters.lost += held.records.length;
    this.undelivered.push(...held.records);
    this.release(held.records.length, held.bytes);
    this.logger.error('records not delivered could not be kept anywhere: lost', { records: held.records.length, error: this.lastRefusal });
  }

  /** Given-up records leave the buffer (and may let write() take more). */
  private release(records: number, bytes: number): void {
    this.counters.failed += records;
    this.bufferedRecords -= records;
    this.bufferedBytes -= bytes;
    this.checkDrain();
  }

  /** Stops the writer for good: nothing more is accepted or sent; what waits is handed back. */
  private stop(failure: Failure): CoattailError {
    if (this.fatal) return this.fatal;
    const err = fatalWriteError(failure, { streamName: this.streamName, region: this.region ?? 'unknown' });
    this.fatal = err;
    this.wake.abort();
    this.clearLinger();
    this.logger.error('Kinesis writes stopped', { error: err.message });
    this.giveUp(this.batcher.takeAll(), () => `not sent: ${err.message}`);
    // Listeners run outside our bookkeeping, so one that throws cannot corrupt it.
    for (const cb of this.fatalListeners) queueMicrotask(() => cb(err));
    return err;
  }

  private checkDrain(): void {
    if (!this.needDrain || this.fatal) return;
    if (this.bufferedRecords >= this.highWaterRecords / 2 || this.bufferedBytes >= this.highWaterBytes / 2) return;
    this.needDrain = false;
    for (const cb of this.drainListeners) queueMicrotask(cb);
  }

  private whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  private checkIdle(): void {
    if (this.inFlight > 0 || this.batcher.count > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async resolveRegion(): Promise<string> {
    try {
      return await this.client.config.region();
    } catch {
      return 'unknown';
    }
  }
}
