import type { UnifiedTrade } from '../trade.js';

export interface SinkStats {
  accepted: number;
  sent: number;
  retried: number;
  failed: number;
  /** Of the failed: records no undelivered listener took, not even at close (lost unless kept elsewhere). */
  lost: number;
  buffered: number;
}

export interface UndeliveredRecord {
  partitionKey: string;
  data: string;
  reason: string;
}

/** Where normalized trades go. Never drops a record: it delivers it, or hands it to onUndelivered. */
export interface TradeSink {
  /** Accepts the trade; false means "at the high-water mark: pause the sources until onDrain". */
  write(trade: UnifiedTrade, line: string): boolean;
  onDrain(cb: () => void): void;
  /** A failure no retry can fix (stream missing, access denied): the run must stop, and fail. */
  onFatal(cb: (err: Error) => void): void;
  /** The sink asks the run to end without an error (the reader of stdout went away, as with `| head`). */
  onEnd(cb: (reason: string) => void): void;
  /**
   * Records given up on, as it happens, so they can be kept safe at once. A listener that cannot keep
   * them throws: the sink holds them and offers them again (at the latest at close).
   */
  onUndelivered(cb: (records: UndeliveredRecord[]) => void): void;
  /**
   * Records accepted and not yet delivered nor taken by onUndelivered, with the reason: for a
   * synchronous last-resort save when the process must exit at once.
   */
  unsettled(): UndeliveredRecord[];
  /** Delivers everything accepted, up to the deadline; what is left goes to onUndelivered. */
  close(deadlineMs: number): Promise<void>;
  stats(): SinkStats;
}
