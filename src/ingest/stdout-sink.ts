import type { Writable } from 'node:stream';
import { CoattailError } from '../core/errors.js';
import type { UnifiedTrade } from '../trade.js';
import type { SinkStats, TradeSink } from './sink.js';

/** NDJSON unified trades on stdout, honouring the pipe's backpressure. */
export class StdoutSink implements TradeSink {
  private accepted = 0;
  private fatal: ((err: Error) => void) | undefined;
  private closed = false;

  constructor(private readonly out: Writable) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      this.closed = true;
      // EPIPE: the reader went away (`| head`): stop ingesting, it is not a crash.
      const why = err.code === 'EPIPE' ? 'the reading end of the pipe closed' : err.message;
      this.fatal?.(new CoattailError('cannot write trades to stdout', why, 'check the command reading our output'));
    });
  }

  write(_trade: UnifiedTrade, line: string): boolean {
    if (this.closed) return true;
    this.accepted += 1;
    return this.out.write(`${line}\n`);
  }

  onDrain(cb: () => void): void {
    this.out.on('drain', cb);
  }

  onFatal(cb: (err: Error) => void): void {
    this.fatal = cb;
  }

  async close(deadlineMs: number): Promise<{ undelivered: [] }> {
    if (!this.closed && this.out.writableNeedDrain) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadlineMs);
        this.out.once('drain', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return { undelivered: [] };
  }

  stats(): SinkStats {
    const buffered = this.out.writableLength > 0 ? 1 : 0;
    return { accepted: this.accepted, sent: this.accepted, retried: 0, failed: 0, buffered };
  }
}
