/**
 * The KPL aggregated record format (aws/amazon-kinesis-producer, aggregation-format.md), encoded by hand:
 *
 *   magic F3 89 9A C2 | protobuf AggregatedRecord | MD5 of the protobuf bytes (16 bytes)
 *
 *   message AggregatedRecord { repeated string partition_key_table = 1; repeated string explicit_hash_key_table = 2;
 *                              repeated Record records = 3; }
 *   message Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
 *                    required bytes data = 3; repeated Tag tags = 4; }
 *
 * The KCL, and the Spark `aws-kinesis` connector built on it, de-aggregate this format back into user records.
 */
import { createHash } from 'node:crypto';

export const KPL_MAGIC: Uint8Array = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);
const MD5_BYTES = 16;
/** Bytes an aggregate adds around its protobuf message: the magic number and the MD5. */
export const KPL_OVERHEAD_BYTES = KPL_MAGIC.length + MD5_BYTES;

// Protobuf wire types and the tags (field number << 3 | wire type) this format uses.
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const TAG_PARTITION_KEY_TABLE = (1 << 3) | WIRE_LEN; // 0x0a
const TAG_RECORDS = (3 << 3) | WIRE_LEN; // 0x1a
const TAG_RECORD_KEY_INDEX = (1 << 3) | WIRE_VARINT; // 0x08
const TAG_RECORD_DATA = (3 << 3) | WIRE_LEN; // 0x1a

export interface UserRecord {
  partitionKey: string;
  data: Uint8Array;
}

export interface DecodedUserRecord extends UserRecord {
  explicitHashKey?: string;
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len += 1;
  }
  return len;
}

/** Bytes of one length-delimited field (tag, length, payload); every tag here fits in one byte. */
function lenFieldSize(payloadBytes: number): number {
  return 1 + varintLength(payloadBytes) + payloadBytes;
}

function recordMessageSize(keyIndex: number, dataBytes: number): number {
  return 1 + varintLength(keyIndex) + lenFieldSize(dataBytes);
}

class ByteWriter {
  readonly bytes: Uint8Array;
  private pos = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  byte(b: number): void {
    this.bytes[this.pos++] = b;
  }
  varint(n: number): void {
    // Arithmetic, not bitwise: indices and lengths may pass 2^31.
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
  }
  raw(b: Uint8Array): void {
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }
  get length(): number {
    return this.pos;
  }
}

/**
 * Builds one aggregated record incrementally, so a producer can ask what a record would add before
 * adding it. Partition keys are stored once in the key table and referenced by index.
 */
export class AggregateBuilder {
  private readonly keyIndex = new Map<string, number>();
  private readonly keys: Uint8Array[] = [];
  private readonly records: Array<{ keyIndex: number; data: Uint8Array }> = [];
  private protobufBytes = 0;

  get count(): number {
    return this.records.length;
  }

  /** Size of the whole aggregate (magic + protobuf + MD5) as it stands. */
  get size(): number {
    return KPL_OVERHEAD_BYTES + this.protobufBytes;
  }

  /** Size of the whole aggregate if this record were added. */
  sizeWith(partitionKey: string, data: Uint8Array): number {
    return this.size + this.growth(partitionKey, data.length);
  }

  add(partitionKey: string, data: Uint8Array): void {
    this.protobufBytes += this.growth(partitionKey, data.length);
    let index = this.keyIndex.get(partitionKey);
    if (index === undefined) {
      index = this.keys.length;
      this.keyIndex.set(partitionKey, index);
      this.keys.push(Buffer.from(partitionKey, 'utf8'));
    }
    this.records.push({ keyIndex: index, data });
  }

  build(): Uint8Array {
    const proto = new ByteWriter(this.protobufBytes);
    for (const key of this.keys) {
      proto.byte(TAG_PARTITION_KEY_TABLE);
      proto.varint(key.length);
      proto.raw(key);
    }
    for (const r of this.records) {
      proto.byte(TAG_RECORDS);
      proto.varint(recordMessageSize(r.keyIndex, r.data.length));
      proto.byte(TAG_RECORD_KEY_INDEX);
      proto.varint(r.keyIndex);
      proto.byte(TAG_RECORD_DATA);
      proto.varint(r.data.length);
      proto.raw(r.data);
    }
    if (proto.length !== this.protobufBytes) throw new Error(`KPL size bookkeeping is off: ${proto.length} != ${this.protobufBytes}`);
    const out = new Uint8Array(this.size);
    out.set(KPL_MAGIC, 0);
    out.set(proto.bytes, KPL_MAGIC.length);
    out.set(md5(proto.bytes), KPL_MAGIC.length + proto.length);
    return out;
  }

  private growth(partitionKey: string, dataBytes: number): number {
    const known = this.keyIndex.get(partitionKey);
    const index = known ?? this.keys.length;
    const keyTable = known === undefined ? lenFieldSize(Buffer.byteLength(partitionKey, 'utf8')) : 0;
    return keyTable + lenFieldSize(recordMessageSize(index, dataBytes));
  }
}

export function encodeAggregated(records: readonly UserRecord[]): Uint8Array {
  const builder = new AggregateBuilder();
  for (const r of records) builder.add(r.partitionKey, r.data);
  return builder.build();
}

/** True when the bytes start with the KPL magic number and are long enough to hold the MD5. */
export function isAggregated(bytes: Uint8Array): boolean {
  if (bytes.length < KPL_OVERHEAD_BYTES) return false;
  return KPL_MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * The user records of a KPL aggregate, in order; undefined when the bytes are not an aggregate (no magic
 * number, or an MD5 that does not match: the KCL then treats the record as a plain one, and so do we).
 * Throws when the checksum matches but the protobuf inside is malformed. Data are views into `bytes`.
 */
export function decodeAggregated(bytes: Uint8Array): DecodedUserRecord[] | undefined {
  if (!isAggregated(bytes)) return undefined;
  const proto = bytes.subarray(KPL_MAGIC.length, bytes.length - MD5_BYTES);
  const digest = bytes.subarray(bytes.length - MD5_BYTES);
  if (!equalBytes(md5(proto), digest)) return undefined;
  return parseAggregatedRecord(proto);
}

function parseAggregatedRecord(proto: Uint8Array): DecodedUserRecord[] {
  const keys: string[] = [];
  const hashKeys: string[] = [];
  const raw: Array<{ keyIndex: number; hashKeyIndex?: number; data: Uint8Array }> = [];
  const r = new ByteReader(proto);
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    if (field === 1 && tag % 8 === WIRE_LEN) keys.push(r.text());
    else if (field === 2 && tag % 8 === WIRE_LEN) hashKeys.push(r.text());
    else if (field === 3 && tag % 8 === WIRE_LEN) raw.push(parseRecord(r.lengthDelimited()));
    else r.skip(tag % 8);
  }
  return raw.map((rec, i) => {
    const partitionKey = keys[rec.keyIndex];
    if (partitionKey === undefined) throw malformed(`record ${i} points at partition key ${rec.keyIndex} of ${keys.length}`);
    const out: DecodedUserRecord = { partitionKey, data: rec.data };
    if (rec.hashKeyIndex !== undefined) {
      const hashKey = hashKeys[rec.hashKeyIndex];
      if (hashKey === undefined) throw malformed(`record ${i} points at explicit hash key ${rec.hashKeyIndex} of ${hashKeys.length}`);
      out.explicitHashKey = hashKey;
    }
    return out;
  });
}

function parseRecord(bytes: Uint8Array): { keyIndex: number; hashKeyIndex?: number; data: Uint8Array } {
  let keyIndex: number | undefined;
  let hashKeyIndex: number | undefined;
  let data: Uint8Array | undefined;
  const r = new ByteReader(bytes);
  while (!r.done) {
    const tag = r.varint();
    if (tag === TAG_RECORD_KEY_INDEX) keyIndex = r.varint();
    else if (tag === ((2 << 3) | WIRE_VARINT)) hashKeyIndex = r.varint();
    else if (tag === TAG_RECORD_DATA) data = r.lengthDelimited();
    else r.skip(tag % 8); // tags (field 4) and anything newer
  }
  if (keyIndex === undefined || data === undefined) throw malformed('a record lacks its required partition_key_index or data');
  return hashKeyIndex === undefined ? { keyIndex, data } : { keyIndex, hashKeyIndex, data };
}

class ByteReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.bytes[this.pos++];
      if (b === undefined) throw malformed('truncated varint');
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(value)) throw malformed('varint beyond 2^53');
        return value;
      }
      scale *= 0x80;
    }
    throw malformed('varint longer than 10 bytes');
  }
  lengthDelimited(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.bytes.length) throw malformed('length runs past the end');
    const out = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  text(): string {
    return Buffer.from(this.lengthDelimited()).toString('utf8');
  }
  skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_LEN) this.lengthDelimited();
    else if (wireType === WIRE_FIXED64) this.advance(8);
    else if (wireType === WIRE_FIXED32) this.advance(4);
    else throw malformed(`unsupported wire type ${wireType}`);
  }
  private advance(n: number): void {
    if (this.pos + n > this.bytes.length) throw malformed('field runs past the end');
    this.pos += n;
  }
}

function malformed(why: string): Error {
  return new Error(`malformed KPL aggregated record: ${why}`);
}

function md5(bytes: Uint8Array): Uint8Array {
  return createHash('md5').update(bytes).digest();
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
