import path from 'node:path';
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../aws/kinesis.js';
import type { CommandContext } from '../core/context.js';
import { DAY, durationOption, HOUR, SECOND, SPAN } from '../core/duration.js';
import { CoattailError, errorMessage, usageError } from '../core/errors.js';
import type { FeedSpec } from '../exchanges/types.js';
import { buildFeeds, parseExchanges, parseSymbols } from '../ingest/feeds.js';
import type { Exchange } from '../exchanges/registry.js';
import { resolveSymbols } from '../symbols/resolve.js';
import { openKinesisSink } from '../ingest/kinesis-sink.js';
import { runIngest, type IngestSummary } from '../ingest/pipeline.js';
import type { TradeSink } from '../ingest/sink.js';
import { StdoutSink } from '../ingest/stdout-sink.js';
import { keepUndelivered } from '../ingest/undelivered-file.js';
import { localEndpoints } from '../local/state.js';
import { resolveEndpoint } from '../aws/endpoint.js';
import { resolveAwsTarget, resolveLocalTarget } from '../aws/target.js';
import { DEFAULT_STREAM } from '../config/defaults.js';

/** Options as commander hands them over (strings; environment variables already applied). */
export interface IngestOptions {
  exchanges: string;
  symbols: string;
  /** Unset: the config file's `stream`, else coattail-trades. */
  stream?: string;
  region?: string;
  profile?: string;
  config?: string;
  env?: string;
  kinesisEndpoint?: string;
  local?: boolean;
  stateDir: string;
  sink: 'kinesis' | 'stdout';
  binanceUrl: string;
  coinbaseUrl: string;
  /** The exchanges' REST base URLs: their symbol listings, and the trade history confirmed gaps are fetched from. */
  binanceRestUrl: string;
  coinbaseRestUrl: string;
  /** False with `--no-backfill`: gaps are only counted. */
  backfill: boolean;
  /** Where the listings are cached for a start without the network. */
  symbolsCache: string;
  binanceTimeUnit: 'ms' | 'us';
  maxTrades?: string;
  duration?: string;
  aggregate?: boolean;
  lingerMs: string;
  bufferRecords: string;
  statsInterval: string;
  shutdownTimeout: string;
  /** Where trades that could not be delivered are saved (then the OS temp folder). */
  undeliveredDir?: string;
  json?: boolean;
}

export function positiveNumber(name: string, text: string | undefined, integer: boolean, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw usageError(
      `${name} must be a positive ${integer ? 'whole number' : 'number'}`,
      `got '${text}'`,
      `pass e.g. ${name} ${integer ? '1000' : '30'}`,
    );
  }
  if (n > max)
    throw usageError(`${name} ${text} is out of range`, `it must be from 1 to ${max}`, `pass e.g. ${name} ${integer ? '1000' : '30'}`);
  return n;
}

function nonNegative(name: string, text: string, max: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0)
    throw usageError(`${name} must be a number ≥ 0`, `got '${text}'`, `pass e.g. ${name} 10`);
  if (n > max) throw usageError(`${name} ${text} is out of range`, `it must be from 0 to ${max}`, `pass e.g. ${name} 100`);
  return n;
}

/** Ranges of the numeric options (README, "coattail ingest"). */
const MAX_TRADES = 1_000_000_000_000;
const MAX_BUFFER_RECORDS = 1_000_000;
const MAX_LINGER_MS = 60_000;

/** The writer's settings; checked before anything connects, whichever the sink. */
function writerLimits(opts: IngestOptions): { lingerMs: number; highWaterRecords: number } {
  return {
    lingerMs: nonNegative('--linger-ms', opts.lingerMs, MAX_LINGER_MS),
    highWaterRecords: positiveNumber('--buffer-records', opts.bufferRecords, true, MAX_BUFFER_RECORDS) ?? 20_000,
  };
}

/** What the feeds are, checked without the network: which exchanges, which symbols, which URLs. */
function feedRequest(opts: IngestOptions): {
  exchanges: Exchange[];
  symbols: string[];
  urls: Record<Exchange, string>;
  restUrls: Record<Exchange, string>;
} {
  return {
    exchanges: parseExchanges(opts.exchanges),
    symbols: parseSymbols(opts.symbols),
    urls: { binance: checkWsUrl('--binance-url', opts.binanceUrl), coinbase: checkWsUrl('--coinbase-url', opts.coinbaseUrl) },
    restUrls: {
      binance: checkHttpUrl('--binance-rest-url', opts.binanceRestUrl),
      coinbase: checkHttpUrl('--coinbase-rest-url', opts.coinbaseRestUrl),
    },
  };
}

/** The feeds, once the exchanges' listings have said what each symbol is called there. */
async function feedsOf(opts: IngestOptions, request: ReturnType<typeof feedRequest>, ctx: CommandContext): Promise<FeedSpec[]> {
  const exchangeSymbols = await resolveSymbols({
    exchanges: request.exchanges,
    symbols: request.symbols,
    restUrls: request.restUrls,
    cacheDir: path.resolve(ctx.cwd, opts.symbolsCache),
    logger: ctx.logger,
    now: () => ctx.clock.now(),
  });
  // The REST URLs always serve the listings; with --no-backfill the feeds get none, and gaps are only counted.
  const { restUrls, ...feeds } = request;
  return buildFeeds({ ...feeds, binanceTimeUnit: opts.binanceTimeUnit, exchangeSymbols, ...(opts.backfill ? { restUrls } : {}) });
}

function checkHttpUrl(flag: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`${flag} is not a URL`, `got '${text}'`, `pass e.g. ${flag} https://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`${flag} must be an http:// or https:// URL`, `got '${text}'`, `pass e.g. ${flag} http://127.0.0.1:9443`);
  }
  return text;
}

function checkWsUrl(flag: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`${flag} is not a URL`, `got '${text}'`, `pass e.g. ${flag} wss://host:port`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw usageError(`${flag} must be a ws:// or wss:// URL`, `got '${text}'`, `pass e.g. ${flag} ws://127.0.0.1:9443`);
  }
  return text;
}

async function checkStream(client: KinesisClient, stream: string, where: string): Promise<void> {
  try {
    await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (name === 'ResourceNotFoundException') {
      throw new CoattailError(
        `Kinesis stream '${stream}' not found`,
        `no such stream at ${where}`,
        "create it, pass --stream, or run 'coattail local up' for the local emulator",
      );
    }
    throw new CoattailError(
      `cannot reach Kinesis at ${where}`,
      errorMessage(err),
      'check --kinesis-endpoint / --region and your credentials',
    );
  }
}

interface KinesisTarget {
  client: KinesisClient;
  stream: string;
  where: string;
}

/** Where the trades go on Kinesis: settled before anything connects, so a missing region is the first thing said. */
async function kinesisTarget(opts: IngestOptions, ctx: CommandContext): Promise<KinesisTarget> {
  const target = opts.local ? resolveLocalTarget(opts, ctx) : await resolveAwsTarget(opts, ctx, 'optional');
  const stream = opts.stream ?? target.config.settings.stream ?? DEFAULT_STREAM;
  let endpoint = resolveEndpoint('kinesis', opts.kinesisEndpoint, ctx.env)?.value;
  let region = target.region?.value;
  if (opts.local && !endpoint) {
    const local = localEndpoints(path.resolve(ctx.cwd, opts.stateDir), ['kinesis']);
    endpoint = local.kinesisEndpoint;
    region = region ?? local.region;
  }
  const client = createKinesisClient({ region, endpoint, local: opts.local === true, profile: target.profile?.value }, ctx.env);
  return { client, stream, where: endpoint ?? `region ${await client.config.region()}` };
}

async function createSink(
  opts: IngestOptions,
  kinesis: KinesisTarget | undefined,
  ctx: CommandContext,
): Promise<{ sink: TradeSink; target: string }> {
  if (!kinesis) return { sink: new StdoutSink(ctx.stdout), target: 'stdout' };
  const { client, stream, where } = kinesis;
  await checkStream(client, stream, where);
  const sink = openKinesisSink({
    client,
    streamName: stream,
    ...writerLimits(opts),
    aggregate: opts.aggregate === true,
    logger: ctx.logger.child({ sink: 'kinesis' }),
    clock: ctx.clock,
  });
  return { sink, target: `Kinesis stream ${stream} at ${where}` };
}

/** `coattail ingest`: exchanges → normalize → Kinesis or stdout. */
export async function ingest(opts: IngestOptions, ctx: CommandContext): Promise<number> {
  const request = feedRequest(opts);
  const maxTrades = positiveNumber('--max-trades', opts.maxTrades, true, MAX_TRADES);
  const durationMs = opts.duration === undefined ? undefined : durationOption('--duration', opts.duration, { ...SPAN, example: '15m' });
  const statsIntervalMs = durationOption('--stats-interval', opts.statsInterval, { min: 100, max: DAY, zeroIsOff: true, example: '10s' });
  const shutdownTimeoutMs = durationOption('--shutdown-timeout', opts.shutdownTimeout, { min: SECOND, max: HOUR, example: '20s' });
  writerLimits(opts);
  const kinesis = opts.sink === 'stdout' ? undefined : await kinesisTarget(opts, ctx);
  const feeds = await feedsOf(opts, request, ctx);
  const { sink, target } = await createSink(opts, kinesis, ctx);
  const { spill, places, forget } = keepUndelivered(sink, {
    dir: path.resolve(ctx.cwd, opts.undeliveredDir ?? DEFAULT_UNDELIVERED_DIR),
    startedAtMs: ctx.clock.now(),
    logger: ctx.logger,
    onForcedExit: ctx.onForcedExit,
    stderr: ctx.stderr,
  });
  ctx.logger.info('ingesting', { exchanges: feeds.map((f) => f.exchange).join(','), symbols: feeds[0]?.symbols.join(','), into: target });

  const result = await runIngest(
    {
      feeds,
      statsIntervalMs,
      shutdownTimeoutMs,
      ...(maxTrades !== undefined ? { maxTrades } : {}),
      ...(durationMs !== undefined ? { durationMs } : {}),
    },
    sink,
    { logger: ctx.logger, clock: ctx.clock, signal: ctx.signal },
  );
  forget();
  const { summary } = result;
  printSummary(summary, spill.files(), opts, ctx);
  if (summary.lost > 0) {
    const cause = result.fatal ? ` after the sink failed (${result.fatal.message})` : '';
    throw opts.sink === 'stdout'
      ? new CoattailError(`${summary.lost} trades were lost`, `stdout could not take them${cause}`, 'check the command reading our output')
      : new CoattailError(
          `${summary.lost} trades were lost`,
          `they were not delivered${cause}, and could not be saved in ${places.join(' or ')}`,
          'free disk space, or point --undelivered-dir (COATTAIL_UNDELIVERED_DIR) at a writable folder',
        );
  }
  if (result.fatal) throw result.fatal;
  if (summary.failed > 0) {
    const where = `the ${summary.saved} saved are in ${spill.files().join(' and ')}; send them again once the sink is healthy`;
    throw new CoattailError(`${summary.failed} trades could not be delivered`, 'retries ran out or the sink went away', where);
  }
  return 0;
}

const DEFAULT_UNDELIVERED_DIR = '.coattail/undelivered';

/** The summary goes to stderr: stdout carries only data (the trades, with --sink stdout). */
function printSummary(summary: IngestSummary, undeliveredFiles: string[], opts: IngestOptions, ctx: CommandContext): void {
  if (opts.json) {
    ctx.stderr.write(`${JSON.stringify({ ...summary, undelivered_files: undeliveredFiles })}\n`);
    return;
  }
  const lines = [
    `ingest summary (${summary.stop_reason}, ${summary.duration_s}s)`,
    `  received ${summary.received}  sent ${summary.sent}  retried ${summary.retried}  failed ${summary.failed} (saved ${summary.saved}, lost ${summary.lost})`,
    `  gaps ${summary.gaps} (${summary.backfilled} trades backfilled, ${summary.missing_trades} missing)  duplicates dropped ${summary.duplicates}  sequence restarts ${summary.sequence_restarts}  malformed frames ${summary.malformed_frames}  unexpected frames ${summary.unexpected_frames}  reconnects ${summary.reconnects}`,
    ...Object.entries(summary.exchanges).map(
      ([ex, s]) =>
        `  ${ex.padEnd(9)} trades ${s.trades}  gaps ${s.gaps}  backfilled ${s.backfilled}  missing ${s.missing_trades}  sequence restarts ${s.sequence_restarts}  reconnects ${s.reconnects}  malformed ${s.malformed_frames}`,
    ),
    ...undeliveredFiles.map((f) => `  undelivered trades saved in ${f}`),
  ];
  ctx.stderr.write(`${lines.join('\n')}\n`);
}
