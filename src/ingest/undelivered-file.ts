import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { UndeliveredRecord } from './sink.js';

/**
 * Trades the sink gave up on, appended to an NDJSON file the moment it happens (synchronously, so a
 * crash or a second Ctrl-C right after cannot lose them). One line per trade: partition key, reason,
 * and the record as it would have been sent.
 */
export class UndeliveredFile {
  readonly file: string;
  private count = 0;

  constructor(dir: string, startedAtMs: number) {
    this.file = path.join(dir, `trades-${new Date(startedAtMs).toISOString().replace(/[:.]/g, '-')}.ndjson`);
  }

  append(records: UndeliveredRecord[]): void {
    if (records.length === 0) return;
    mkdirSync(path.dirname(this.file), { recursive: true });
    appendFileSync(this.file, records.map((r) => `${JSON.stringify({ partition_key: r.partitionKey, reason: r.reason, record: r.data })}\n`).join(''));
    this.count += records.length;
  }

  saved(): number {
    return this.count;
  }
}
