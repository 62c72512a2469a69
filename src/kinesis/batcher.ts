/**
 * Records not yet handed to PutRecords, turned into Kinesis entries and cut into batches within the
 * service limits. With aggregation, records that share a partition key are packed into KPL aggregates,
 * so one hot symbol is not capped at a shard's 1,000 records/s.
 */
import { AggregateBuilder, decodeAggregated, type UserRecord } from './kpl.js';
import { MAX_RECORD_BYTES } from './limits.js';

/** One Kinesis record of a PutRecords request: a user record, or a KPL aggregate of several. */
export interface Entry {
  partitionKey: string;
  data: Uint8Array;
  /** Data plus partition key bytes: what counts against the Kinesis limits. */
  size: number;
  /** User records it carries: more than one only for an aggregate. */
  userRecords: number;
  /** What those user records weigh in the producer's buffer. */
  userBytes: number;
  /** When its oldest user record has waited the whole retry deadline. */
  deadlineAt: number;
  attempts: number;
  lastError?: string;
}

/** The user records an entry carries, in the order they were written. */
export function userRecordsOf(entry: Entry): UserRecord[] {
  if (entry.userRecords === 1) return [{ partitionKey: entry.partitionKey, data: entry.data }];
  const records = decodeAggregated(entry.data);
  if (!records) throw new Error('an aggregate built by this producer failed to decode');
  return records.map(({ partitionKey, data }) => ({ partitionKey, data }));
}

interface OpenAggregate {
  builder: AggregateBuilder;
  partitionKey: string;
  keyBytes: number;
  /** Sent plain if it stays alone, as the KPL does: an aggregate of one only adds bytes. */
  first: Uint8Array;
  userBytes: number;
  deadlineAt: number;
}

export interface BatcherOptions {
  maxBatchRecords: number;
  maxBatchBytes: number;
  /** Pack records by partition key into aggregates of at most this many bytes; undefined: no aggregation. */
  maxAggregatedBytes?: number;
}

export class Batcher {
  private pending: Entry[] = [];
  private pendingBytes = 0;
  private readonly open = new Map<string, OpenAggregate>();
  private openBytes = 0;
  /** KPL aggregates built (each carrying two or more user records). */
  aggregatesBuilt = 0;

  constructor(private readonly opts: BatcherOptions) {}

  /** Entries waiting, counting each open aggregate as one. */
  get count(): number {
    return this.pending.length + this.open.size;
  }

  add(partitionKey: string, keyBytes: number, data: Uint8Array, deadlineAt: number): void {
    if (this.opts.maxAggregatedBytes === undefined) {
      this.enqueuePlain(partitionKey, keyBytes, data, deadlineAt);
      return;
    }
    const limit = Math.min(this.opts.maxAggregatedBytes, MAX_RECORD_BYTES - keyBytes);
    let agg = this.open.get(partitionKey);
    if (agg && agg.builder.sizeWith(partitionKey, data) > limit) {
      this.seal(agg);
      agg = undefined;
    }
    if (!agg) {
      const builder = new AggregateBuilder();
      if (builder.sizeWith(partitionKey, data) > limit) {
        this.enqueuePlain(partitionKey, keyBytes, data, deadlineAt);
        return;
      }
      agg = { builder, partitionKey, keyBytes, first: data, userBytes: 0, deadlineAt };
      this.open.set(partitionKey, agg);
      this.openBytes += keyBytes + builder.size;
    }
    const before = agg.builder.size;
    agg.builder.add(partitionKey, data);
    this.openBytes += agg.builder.size - before;
    agg.userBytes += keyBytes + data.length;
  }

  /** True when a full batch (by count or bytes) is waiting, open aggregates included. */
  full(): boolean {
    return this.count >= this.opts.maxBatchRecords || this.pendingBytes + this.openBytes >= this.opts.maxBatchBytes;
  }

  /**
   * The next batch: up to the record and byte limits (at least one entry). Seals the open aggregates
   * first unless a full batch of sealed entries is already waiting, so aggregates fill while they can.
   */
  take(): Entry[] {
    if (!this.sealedFull()) this.sealAll();
    let n = 0;
    let bytes = 0;
    for (const e of this.pending) {
      if (n === this.opts.maxBatchRecords || (n > 0 && bytes + e.size > this.opts.maxBatchBytes)) break;
      n += 1;
      bytes += e.size;
    }
    this.pendingBytes -= bytes;
    return this.pending.splice(0, n);
  }

  /** The user records waiting, open aggregates included, left in place: for a last-resort save at exit. */
  records(): UserRecord[] {
    const out = this.pending.flatMap(userRecordsOf);
    for (const agg of this.open.values()) {
      if (agg.builder.count === 1) out.push({ partitionKey: agg.partitionKey, data: agg.first });
      else out.push(...(decodeAggregated(agg.builder.build()) ?? []).map(({ partitionKey, data }) => ({ partitionKey, data })));
    }
    return out;
  }

  /** Everything waiting, sealed: for giving up when the writer stops. */
  takeAll(): Entry[] {
    this.sealAll();
    const all = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    return all;
  }

  private sealedFull(): boolean {
    return this.pending.length >= this.opts.maxBatchRecords || this.pendingBytes >= this.opts.maxBatchBytes;
  }

  private sealAll(): void {
    for (const agg of [...this.open.values()]) this.seal(agg);
  }

  private seal(agg: OpenAggregate): void {
    this.open.delete(agg.partitionKey);
    this.openBytes -= agg.keyBytes + agg.builder.size;
    const alone = agg.builder.count === 1;
    const data = alone ? agg.first : agg.builder.build();
    if (!alone) this.aggregatesBuilt += 1;
    this.enqueue({
      partitionKey: agg.partitionKey,
      data,
      size: agg.keyBytes + data.length,
      userRecords: agg.builder.count,
      userBytes: agg.userBytes,
      deadlineAt: agg.deadlineAt,
      attempts: 0,
    });
  }

  private enqueuePlain(partitionKey: string, keyBytes: number, data: Uint8Array, deadlineAt: number): void {
    const size = keyBytes + data.length;
    this.enqueue({ partitionKey, data, size, userRecords: 1, userBytes: size, deadlineAt, attempts: 0 });
  }

  private enqueue(e: Entry): void {
    this.pending.push(e);
    this.pendingBytes += e.size;
  }
}
