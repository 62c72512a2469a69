/** Kinesis Data Streams service limits the producer must respect (PutRecords API reference). */

/** One record: data plus partition key. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** One PutRecords request. */
export const MAX_BATCH_RECORDS = 500;
/** One PutRecords request, data plus partition keys. */
export const MAX_BATCH_BYTES = 5 * 1024 * 1024;
/** A partition key is 1 to 256 Unicode characters. */
export const MAX_PARTITION_KEY_CHARS = 256;
