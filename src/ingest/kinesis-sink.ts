import { KinesisWriter, type KinesisWriterOptions, type UndeliveredRecord as WriterUndelivered } from '../kinesis/writer.js';
import type { UnifiedTrade } from '../trade.js';
import type { SinkStats, TradeSink, UndeliveredRecord } from './sink.js';

/** Unified trades into Kinesis, one record each, partition key = symbol. */
export class KinesisSink implements TradeSink {
  constructor(private readonly writer: KinesisWriter) {}

  write(trade: UnifiedTrade, line: string): boolean {
    const data = Buffer.from(line, 'utf8');
    // Trades still arriving after the writer stopped for good are kept with the other undelivered ones.
    const stopped = this.writer.stopReason();
    if (stopped !== undefined) {
      this.writer.setAside(trade.symbol, data, `not sent: ${stopped}`);
      return true;
    }
    return this.writer.write(trade.symbol, data);
  }

  onDrain(cb: () => void): void {
    this.writer.onDrain(cb);
  }

  onFatal(cb: (err: Error) => void): void {
    this.writer.onFatal(cb);
  }

  onEnd(_cb: (reason: string) => void): void {
    // Kinesis never ends a run by itself.
  }

  onUndelivered(cb: (records: UndeliveredRecord[]) => void): void {
    this.writer.onUndelivered((records) => cb(records.map(asText)));
  }

  unsettled(): UndeliveredRecord[] {
    return this.writer.unsettled().map(asText);
  }

  async close(deadlineMs: number): Promise<void> {
    await this.writer.close({ deadlineMs });
  }

  stats(): SinkStats {
    const s = this.writer.stats();
    return { accepted: s.accepted, sent: s.sent, retried: s.retried, failed: s.failed, lost: s.lost, buffered: s.buffered };
  }
}

function asText(r: WriterUndelivered): UndeliveredRecord {
  return { partitionKey: r.partitionKey, data: Buffer.from(r.data).toString('utf8'), reason: r.reason };
}

/** The one way ingest and the demo write trades to Kinesis: a producer (KinesisWriter) behind a sink. */
export function openKinesisSink(opts: KinesisWriterOptions): KinesisSink {
  return new KinesisSink(new KinesisWriter(opts));
}
