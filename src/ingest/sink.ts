import type { UnifiedTrade } from '../trade.js';

export interface SinkStats {
  accepted: number;
  sent: number;
  retried: number;
  failed: number;
  buffered: number;
}

export interface UndeliveredRecord {
  partitionKey: string;
  data: string;
  reason: string;
}

/** Where normalized trades go. Never drops a record: it delivers it, or reports it undelivered. */
export interface TradeSink {
  /** Accepts the trade; false means "at the high-water mark: pause the sources until onDrain". */
  write(trade: UnifiedTrade, line: string): boolean;
  onDrain(cb: () => void): void;
  /** A failure no retry can fix (stream missing, stdout closed): the run must stop. */
  onFatal(cb: (err: Error) => void): void;
  /** Delivers everything accepted (up to the deadline) and reports what could not be delivered. */
  close(deadlineMs: number): Promise<{ undelivered: UndeliveredRecord[] }>;
  stats(): SinkStats;
}
