import path from 'node:path';
import { awsFailure } from '../aws/errors.js';
import { createKinesisClient } from '../aws/kinesis.js';
import { resolveEndpoint } from '../aws/endpoint.js';
import { DEFAULT_STREAM } from '../config/defaults.js';
import { resolveAwsTarget, resolveLocalTarget } from '../aws/target.js';
import { positiveInt } from '../config/validate.js';
import { useColor, type CommandContext } from '../core/context.js';
import { durationOption, SPAN } from '../core/duration.js';
import { usageError } from '../core/errors.js';
import { StreamFollower, type FollowedRecord, type FollowEvent, type StartPosition } from '../kinesis/follow.js';
import { localEndpoints } from '../local/state.js';
import { keep, parseTradeRecord, tableHeader, tableRow, type TradeFilter } from '../tail/trades.js';

/** Options as commander hands them over (strings; environment variables already applied). */
export interface TailOptions {
  stream?: string;
  from: string;
  symbols?: string;
  minUsd?: string;
  max?: string;
  exitAtEnd?: boolean;
  json?: boolean;
  local?: boolean;
  stateDir: string;
  region?: string;
  kinesisEndpoint?: string;
  profile?: string;
  config?: string;
  env?: string;
}

export { DEFAULT_STREAM } from '../config/defaults.js';
/** More than any trade's quote value, and as many trades as anyone would print: larger is a typo. */
const MAX_MIN_USD = 1_000_000_000_000;
const MAX_TRADES = 1_000_000_000_000;
/** Kinesis stream names (CreateStream's StreamName pattern). */
const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
/** How many records that are not trades are described one by one; the rest are only counted. */
const DESCRIBED_INVALID = 5;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
const DATE_TIME_NO_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/i;
const FROM_TIME_FIX = 'write it like 2026-01-15T09:30:00Z or 2026-01-15T10:30:00+01:00 (a bare date 2026-01-15 is midnight UTC)';

/**
 * `latest`, `trim-horizon`, an ISO-8601 time with its zone or a bare date (midnight UTC) (AT_TIMESTAMP), or a
 * look-back such as `15m` (that long before now).
 */
export function parseFrom(text: string, now: number): StartPosition {
  const word = text.trim().toLowerCase().replace(/_/g, '-');
  if (word === 'latest') return { type: 'LATEST' };
  if (word === 'trim-horizon') return { type: 'TRIM_HORIZON' };
  if (/^\d+(\.\d+)?[smhd]?$/.test(word))
    return { type: 'AT_TIMESTAMP', timestamp: new Date(now - durationOption('--from', word, { ...SPAN, example: '15m' })) };
  const trimmed = text.trim();
  // A bare date is midnight UTC (as Date.parse reads it); a time must say its zone, or which instant is meant is a guess.
  if (DATE_TIME_NO_ZONE.test(trimmed))
    throw usageError(
      `--from '${trimmed}' is a time without its zone`,
      'it would be read in the zone of the machine that runs the tail',
      FROM_TIME_FIX,
    );
  const ms = DATE.test(trimmed) || DATE_TIME.test(trimmed) ? Date.parse(trimmed) : NaN;
  if (Number.isNaN(ms)) {
    throw usageError(
      `--from '${text}' is not a position`,
      'it is latest, trim-horizon, an ISO time or a look-back',
      'pass e.g. --from trim-horizon, --from 2026-01-15T09:30:00Z or --from 15m',
    );
  }
  if (ms > now)
    throw usageError(`--from ${text} is in the future`, 'a stream holds no records from after now', 'pass a past time, or --from latest');
  return { type: 'AT_TIMESTAMP', timestamp: new Date(ms) };
}

/** Upper-cased, deduplicated BASE-QUOTE symbols; empty (all symbols) when not given. */
export function parseTailSymbols(text: string | undefined): string[] {
  if (text === undefined) return [];
  const list = [...new Set(text.split(',').map((s) => s.trim().toUpperCase()))].filter((s) => s.length > 0);
  if (list.length === 0)
    throw usageError('no symbols given', '--symbols is empty', 'leave it out for every symbol, or pass e.g. --symbols BTC-USDT');
  for (const s of list) {
    if (!/^[A-Z0-9]+-[A-Z0-9]+$/.test(s))
      throw usageError(`symbol '${s}' is not BASE-QUOTE`, 'symbols are written with a dash', 'write it like BTC-USDT');
  }
  return list;
}

export function parseMinUsd(text: string | undefined): number {
  if (text === undefined) return 0;
  const n = Number(text.replace(/_/g, ''));
  if (text.trim() === '' || !Number.isFinite(n) || n < 0)
    throw usageError('--min-usd must be a number ≥ 0', `got '${text}'`, 'pass e.g. --min-usd 100000');
  if (n > MAX_MIN_USD)
    throw usageError(`--min-usd ${text} is out of range`, `it must be from 0 to ${MAX_MIN_USD}`, 'pass e.g. --min-usd 100000');
  return n;
}

interface Counts {
  printed: number;
  filtered: number;
  invalid: number;
}

/**
 * `coattail tail`: follows the stream and prints its unified trades until --max, --exit-at-end or a stop
 * signal; a summary goes to stderr. A record that is not a unified trade is counted and described, never fatal.
 */
export async function tail(opts: TailOptions, ctx: CommandContext): Promise<number> {
  const from = parseFrom(opts.from, ctx.clock.now());
  const filter: TradeFilter = { symbols: parseTailSymbols(opts.symbols), minUsd: parseMinUsd(opts.minUsd) };
  const max = opts.max === undefined ? undefined : positiveInt(opts.max, '--max', MAX_TRADES);

  const target = opts.local ? resolveLocalTarget(opts, ctx) : await resolveAwsTarget(opts, ctx, 'optional');
  let endpoint = resolveEndpoint('kinesis', opts.kinesisEndpoint, ctx.env)?.value;
  let region = target.region?.value;
  let stream = opts.stream ?? (opts.local ? undefined : target.config.settings.stream);
  if (opts.local) {
    const local = localEndpoints(path.resolve(ctx.cwd, opts.stateDir), ['kinesis']);
    endpoint = endpoint ?? local.kinesisEndpoint;
    region = region ?? local.region;
    stream = stream ?? local.stream;
  }
  stream = stream ?? DEFAULT_STREAM;
  if (!STREAM_NAME.test(stream))
    throw usageError(
      `--stream '${stream}' is not a stream name`,
      'a Kinesis stream name is 1-128 letters, digits, _ . and -',
      'pass e.g. --stream coattail-trades',
    );
  const client = createKinesisClient({ endpoint, region, local: opts.local === true, profile: target.profile?.value }, ctx.env);
  let where = `at ${endpoint}`;
  if (!endpoint) {
    try {
      where = `in ${await client.config.region()}`;
    } catch (err) {
      client.destroy();
      throw awsFailure(
        err,
        'no AWS region to read the stream in',
        ctx.env,
        'pass --region (or set AWS_REGION, or a region in the profile)',
      );
    }
  }

  const json = opts.json === true || ctx.stdout.isTTY !== true;
  const color = useColor(ctx.env, ctx.stdout);
  const counts: Counts = { printed: 0, filtered: 0, invalid: 0 };
  const stop = new AbortController();
  let stopped: 'max' | 'signal' | 'end' | 'stdout closed' = 'end';
  const onSignal = (): void => {
    stopped = 'signal';
    stop.abort();
  };
  ctx.signal.addEventListener('abort', onSignal, { once: true });
  if (ctx.signal.aborted) onSignal();
  const onStdoutError = (): void => {
    stopped = 'stdout closed';
    stop.abort();
  };
  // Kept to the end: a reader that closes (EPIPE) after the last trade must not crash the exit either.
  ctx.stdout.on('error', onStdoutError);
  if (!json) ctx.stdout.write(`${tableHeader()}\n`);

  const describe = (r: FollowedRecord, why: string): void => {
    counts.invalid += 1;
    if (counts.invalid <= DESCRIBED_INVALID) {
      const at = `${r.shardId} ${r.sequenceNumber}${r.subSequenceNumber !== undefined ? `/${r.subSequenceNumber}` : ''}`;
      ctx.logger.warn(
        `record ${at} (key ${r.partitionKey}) skipped: ${why}${counts.invalid === DESCRIBED_INVALID ? '; further ones are only counted' : ''}`,
      );
    }
  };
  const onRecords = async (records: FollowedRecord[]): Promise<void> => {
    let out = '';
    for (const r of records) {
      if (stop.signal.aborted) break;
      if (r.malformed !== undefined) {
        describe(r, r.malformed);
        continue;
      }
      const parsed = parseTradeRecord(r.data);
      if (!parsed.ok) {
        describe(r, parsed.why);
        continue;
      }
      if (!keep(parsed.trade, filter)) {
        counts.filtered += 1;
        continue;
      }
      out += `${json ? parsed.line : tableRow(parsed.trade, color)}\n`;
      counts.printed += 1;
      if (max !== undefined && counts.printed >= max) {
        stopped = 'max';
        stop.abort();
      }
    }
    if (out !== '' && !ctx.stdout.write(out)) await drained(ctx.stdout, stop.signal);
  };

  const follower = new StreamFollower({
    client,
    stream,
    from,
    signal: stop.signal,
    onRecords,
    exitAtEnd: opts.exitAtEnd === true,
    where,
    onEvent: (e) => logEvent(ctx, e),
  });
  const started = ctx.clock.now();
  try {
    await follower.run();
  } finally {
    ctx.signal.removeEventListener('abort', onSignal);
    client.destroy();
  }
  const s = follower.stats;
  const summary = {
    stream,
    printed: counts.printed,
    filtered_out: counts.filtered,
    not_trades: counts.invalid,
    kinesis_records: s.kinesisRecords,
    user_records: s.userRecords,
    aggregates: s.aggregates,
    shards: s.shardsStarted,
    shards_closed: s.shardsFinished,
    throttled: s.throttled,
    expired_iterators: s.expiredIterators,
    stopped_by: stopped,
    seconds: Math.round((ctx.clock.now() - started) / 100) / 10,
  };
  if (opts.json) ctx.stderr.write(`${JSON.stringify(summary)}\n`);
  else {
    ctx.logger.info(
      `tail: ${counts.printed} trades printed from ${s.shardsStarted} shard${s.shardsStarted === 1 ? '' : 's'} of ${stream} (stopped by ${stopped}): ` +
        `${s.kinesisRecords} Kinesis records, ${s.userRecords} user records (${s.aggregates} KPL aggregates), ` +
        `${counts.filtered} filtered out, ${counts.invalid} not unified trades` +
        (s.throttled + s.expiredIterators > 0 ? `, ${s.throttled} throttled calls, ${s.expiredIterators} expired iterators` : ''),
    );
  }
  return 0;
}

function logEvent(ctx: CommandContext, e: FollowEvent): void {
  if (e.type === 'shard-start') ctx.logger.debug(`reading ${e.shardId} (${e.iterator})`);
  else if (e.type === 'shard-end')
    ctx.logger.info(
      `${e.shardId} is closed and read to its end${e.children.length ? `; its children next: ${e.children.join(', ')}` : ''}`,
    );
  else if (e.type === 'throttled') ctx.logger.debug(`${e.what}: ${e.reason}, waiting ${e.waitMs} ms`);
  else if (e.type === 'iterator-expired')
    ctx.logger.warn(`${e.shardId}: the shard iterator expired; re-opened ${e.after ? `after ${e.after}` : 'where it started'}`);
  else ctx.logger.warn(`${e.what}: ${e.reason}; retrying in ${e.waitMs} ms`);
}

function drained(out: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    out.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
