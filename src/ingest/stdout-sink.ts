import type { Writable } from 'node:stream';
import { CoattailError } from '../core/errors.js';
import type { UnifiedTrade } from '../trade.js';
import type { SinkStats, TradeSink, UndeliveredRecord } from './sink.js';

/** NDJSON unified trades on stdout, honouring the pipe's backpressure. */
export class StdoutSink implements TradeSink {
  private accepted = 0;
  private sent = 0;
  private failed = 0;
  private fatal: ((err: Error) => void) | undefined;
  private end: ((reason: string) => void) | undefined;
  private closed = false;
  private readerGone = false;

  constructor(private readonly out: Writable) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      this.closed = true;
      if (err.code === 'EPIPE') {
        // The reader went away (`| head -n 100`): it has what it wanted; end the run cleanly.
        this.readerGone = true;
        this.end?.('stdout closed by its reader');
        return;
      }
      this.fatal?.(new CoattailError('cannot write trades to stdout', err.message, 'check the command reading our output'));
    });
  }

  write(_trade: UnifiedTrade, line: string): boolean {
    this.accepted += 1;
    if (this.closed) {
      if (!this.readerGone) this.failed += 1; // a broken stdout: counted, and the run is stopping
      return true;
    }
    // Sent means handed to the operating system, not merely queued in this process.
    return this.out.write(`${line}\n`, (err?: NodeJS.ErrnoException | null) => {
      if (!err) this.sent += 1;
      else if (err.code === 'EPIPE')
        this.readerGone = true; // the 'error' event follows and ends the run
      else this.failed += 1;
    });
  }

  onDrain(cb: () => void): void {
    this.out.on('drain', cb);
  }

  onFatal(cb: (err: Error) => void): void {
    this.fatal = cb;
  }

  onEnd(cb: (reason: string) => void): void {
    this.end = cb;
  }

  onUndelivered(_cb: (records: UndeliveredRecord[]) => void): void {
    // Lines that cannot reach stdout have nowhere else to go; they are counted as failed.
  }

  unsettled(): UndeliveredRecord[] {
    // Lines already handed to the stream cannot be taken back; none wait anywhere else.
    return [];
  }

  async close(deadlineMs: number): Promise<void> {
    if (this.closed || !this.out.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, deadlineMs);
      this.out.once('drain', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  stats(): SinkStats {
    const buffered = this.readerGone ? 0 : this.accepted - this.sent - this.failed;
    // A line that could not reach stdout has nowhere else to go.
    return { accepted: this.accepted, sent: this.sent, retried: 0, failed: this.failed, lost: this.failed, buffered };
  }
}
