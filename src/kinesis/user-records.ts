import { decodeAggregated } from './kpl.js';
import type { StreamRecord } from './read-stream.js';

export interface UserRecordOf {
  partitionKey: string;
  data: Uint8Array;
  /** Packed in a KPL aggregated record. */
  aggregated: boolean;
  shardId: string;
}

/** The user records in Kinesis records: KPL aggregates are unpacked, plain records pass through. */
export function userRecords(records: StreamRecord[]): UserRecordOf[] {
  const out: UserRecordOf[] = [];
  for (const r of records) {
    const inner = decodeAggregated(r.data);
    if (inner) for (const u of inner) out.push({ partitionKey: u.partitionKey, data: u.data, aggregated: true, shardId: r.shardId });
    else out.push({ partitionKey: r.partitionKey, data: r.data, aggregated: false, shardId: r.shardId });
  }
  return out;
}
