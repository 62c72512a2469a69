/**
 * `coattail ingest` in-process, from the demo's market into the demo's Kinesis emulator: the same
 * feeds, the same producer with KPL aggregation (the emulator takes a few hundred plain records a
 * second, and costs tens of milliseconds of CPU per call, so fewer, fuller records keep it light) and
 * a short linger, so a whale waits little for its batch.
 */
import path from 'node:path';
import { createKinesisClient } from '../aws/kinesis.js';
import { buildFeeds, type IngestOptions } from '../commands/ingest.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/time.js';
import { KinesisSink } from '../ingest/kinesis-sink.js';
import { runIngest, type IngestResult } from '../ingest/pipeline.js';
import { saveUnsettled, UndeliveredFile, undeliveredPlaces } from '../ingest/undelivered-file.js';
import { KinesisWriter } from '../kinesis/writer.js';

export interface DemoIngestSettings {
  symbols: readonly string[];
  binanceUrl: string;
  coinbaseUrl: string;
  kinesisEndpoint: string;
  region: string;
  stream: string;
  lingerMs: number;
  /** Where trades the producer gives up on are kept (never dropped silently). */
  undeliveredDir: string;
  statsIntervalMs: number;
  logger: Logger;
  clock: Clock;
  /** The command's hook for a forced exit (a second Ctrl-C): what is unacknowledged is saved then. */
  onForcedExit?: ((save: () => void) => () => void) | undefined;
  stderr: { write(text: string): unknown };
}

export interface DemoIngest {
  /** Asks it to stop reading; what was accepted is still flushed. */
  stop(): void;
  /** Settles once everything accepted is delivered (or saved as undelivered). */
  result: Promise<IngestResult>;
  sent(): number;
  /** Trades the producer took in (sent, in flight or held). */
  accepted(): number;
  undeliveredFile(): string | undefined;
}

/** How long the final flush may take before what is left is saved as undelivered. */
const SHUTDOWN_TIMEOUT_MS = 20_000;

export function startIngest(s: DemoIngestSettings): DemoIngest {
  const options: IngestOptions = {
    exchanges: 'binance,coinbase',
    symbols: s.symbols.join(','),
    stream: s.stream,
    stateDir: '.coattail/local',
    sink: 'kinesis',
    binanceUrl: s.binanceUrl,
    coinbaseUrl: s.coinbaseUrl,
    binanceTimeUnit: 'ms',
    aggregate: true,
    lingerMs: String(s.lingerMs),
    bufferRecords: '20000',
    statsInterval: String(s.statsIntervalMs / 1000),
    shutdownTimeout: String(SHUTDOWN_TIMEOUT_MS / 1000),
  };
  const feeds = buildFeeds(options);
  const logger = s.logger.child({ part: 'ingest' });
  const client = createKinesisClient({ endpoint: s.kinesisEndpoint, region: s.region, local: true });
  const writer = new KinesisWriter({ client, streamName: s.stream, lingerMs: s.lingerMs, aggregate: true, logger, clock: s.clock });
  const sink = new KinesisSink(writer);
  const spill = new UndeliveredFile(undeliveredPlaces(path.resolve(s.undeliveredDir)), s.clock.now(), logger);
  sink.onUndelivered((records) => {
    // Throws when no place can take them: the writer holds them and tries again.
    const file = spill.append(records);
    logger.error('trades not delivered were saved', { count: records.length, file });
  });
  const abort = new AbortController();
  const forgetForcedExit = s.onForcedExit?.(() => saveUnsettled(sink, spill, s.stderr));
  const result = runIngest({ feeds, statsIntervalMs: s.statsIntervalMs, shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS }, sink, { logger, clock: s.clock, signal: abort.signal }).finally(() => {
    forgetForcedExit?.();
    client.destroy();
  });
  return {
    stop: () => abort.abort(),
    result,
    sent: () => sink.stats().sent,
    accepted: () => sink.stats().accepted,
    undeliveredFile: () => (spill.saved() > 0 ? spill.file : undefined),
  };
}
