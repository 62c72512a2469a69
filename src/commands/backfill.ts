/**
 * `coattail backfill --symbol BTC-USDT --start 2024-01-01 --end 2024-01-02 [--exchange coinbase] [--json]`:
 * one symbol's trades of a time range from the exchange's REST API into Iceberg `raw_trades`, MERGEd on
 * `event_id` (a re-run adds nothing twice; trades archived live are not duplicated).
 *
 * The work is the PySpark package's `python -m coattail_jobs historical-loader` (jobs-py/coattail_jobs/batch/
 * historical_loader.py). This handler checks the arguments first (a typo costs no Spark start), resolves the
 * symbol against the exchange's listing as ingest does (src/symbols/resolve.ts: an unlisted symbol is one line
 * naming the closest, exit 2; the job gets the exchange's own name, `--exchange-symbol`, so BTC-USDT is not
 * guessed into a name another pair owns), runs it on local Spark with an argument array, lets its progress (pages, trades, request weight) through on stderr, and
 * renders the summary it prints (or passes the JSON on with --json). `--emr` submits the same job to EMR
 * Serverless through `jobs submit historical-loader` (same bundle and client token rules); the summary then
 * goes to the driver's stdout log.
 */
import path from 'node:path';
import { z } from 'zod';
import type { CommandContext } from '../core/context.js';
import { CoattailError, usageError } from '../core/errors.js';
import { positiveInt } from '../config/validate.js';
import { submitToEmr, type EmrSubmitOptions } from '../spark/emr/submit.js';
import type { JobsDeps } from '../spark/emr/settings.js';
import { ensureJobsPython, lastJsonLine, PYTHON_JOBS_ENTRY, runJobsPython } from '../spark/python.js';
import { DEFAULT_SYMBOLS_CACHE_DIR } from '../symbols/cache.js';
import { resolveSymbols } from '../symbols/resolve.js';

export const LOADER_JOB = 'historical-loader';
export const BINANCE_REST_URL = 'https://api.binance.com';
export const COINBASE_REST_URL = 'https://api.exchange.coinbase.com';

/** Options as commander hands them over (environment variables applied); the EMR ones as for `jobs submit`. */
export interface BackfillOptions extends EmrSubmitOptions {
  symbol?: string;
  start?: string;
  end?: string;
  exchange?: string;
  binanceRestUrl?: string;
  coinbaseRestUrl?: string;
  binanceTimeUnit?: string;
  /** Where the listings are cached for a start without the network (as ingest's). */
  symbolsCache?: string;
  maxWeight?: string;
  warehouse?: string;
  emr?: boolean;
  json?: boolean;
}

/** What the job is given: the checked range and where to fetch it from. */
export interface Backfill {
  exchange: 'binance' | 'coinbase';
  symbol: string;
  start: string;
  end: string;
  restUrl: string;
  timeUnit: 'ms' | 'us';
  maxWeight: number;
}

/** What the job is given once the exchange's listing has said what the symbol is called there. */
export interface ResolvedBackfill extends Backfill {
  /** The exchange's own name for `symbol`: Binance's `BTCUSDT`, Coinbase's product id. */
  exchangeSymbol: string;
}

const SYMBOL = /^[A-Z0-9]+-[A-Z0-9]+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// The Python side's ISO_INSTANT (batch/common.py): a time WITH its zone, or which instant is meant is a guess.
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|([+-])(\d{2}):(\d{2}))$/;
const TIME_FIX = 'write it like 2024-01-01 (midnight UTC) or 2024-01-01T12:00:00Z';

/** An instant as epoch ms (fractions below a ms kept as a fraction), or a one-line usage error. */
export function checkInstant(value: string | undefined, flag: '--start' | '--end'): number {
  if (value === undefined || value.trim() === '') throw usageError(`${flag} is missing`, 'backfill loads the range [start, end)', TIME_FIX);
  const text = value.trim();
  const d = DATE.exec(text);
  const m = d ? null : ISO_INSTANT.exec(text);
  if (!d && !m)
    throw usageError(`${flag} '${text}' is not a date or a time with its zone`, 'the range is in UTC or says its zone', TIME_FIX);
  const f = (d ?? m)!.slice(1).map((p) => (p === undefined ? 0 : Number(p)));
  const [y, mo, day, h = 0, mi = 0, s = 0] = f as [number, number, number, number?, number?, number?];
  const t = new Date(Date.UTC(y, mo - 1, day, h, mi, s));
  const valid =
    t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === day && t.getUTCHours() === h && t.getUTCMinutes() === mi;
  const zoneOk = !m || m[8] === 'Z' || (Number(m[10]) <= 23 && Number(m[11]) <= 59);
  if (!valid || t.getUTCSeconds() !== s || !zoneOk)
    throw usageError(`${flag} '${text}' is not a valid time`, 'a field is out of range', TIME_FIX);
  const fraction = m?.[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  const offset = m && m[8] !== 'Z' ? (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11])) * 60_000 : 0;
  return t.getTime() + fraction - offset;
}

function checkUrl(value: string, flag: string, example: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`${flag} '${value}' is not a URL`, 'it is the REST API to fetch the trades from', `write it like ${flag} ${example}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usageError(`${flag} '${value}' is not http(s)`, 'the REST API speaks HTTP', `write it like ${flag} ${example}`);
  return value;
}

/** The options, checked: one line and exit 2 for anything the job could not run with. */
export function checkBackfill(opts: BackfillOptions): Backfill {
  const symbol = (opts.symbol ?? '').trim().toUpperCase();
  if (!SYMBOL.test(symbol))
    throw usageError(
      opts.symbol ? `--symbol '${opts.symbol}' is not BASE-QUOTE` : '--symbol is missing',
      'backfill loads one symbol',
      'write it like --symbol BTC-USDT (Coinbase: --symbol BTC-USD)',
    );
  const startMs = checkInstant(opts.start, '--start');
  const endMs = checkInstant(opts.end, '--end');
  if (endMs <= startMs)
    throw usageError(
      `--end ${opts.end!.trim()} is not after --start ${opts.start!.trim()}`,
      'the range is [start, end)',
      'pass an end after the start',
    );
  const exchange = opts.exchange ?? 'binance';
  if (exchange !== 'binance' && exchange !== 'coinbase')
    throw usageError(
      `--exchange '${exchange}' is not an exchange with history`,
      'backfill reads Binance or Coinbase',
      'pass --exchange binance or coinbase',
    );
  const timeUnit = opts.binanceTimeUnit ?? 'ms';
  if (timeUnit !== 'ms' && timeUnit !== 'us')
    throw usageError(`--binance-time-unit '${timeUnit}' is not a unit`, 'Binance sends ms or us', 'pass --binance-time-unit ms or us');
  const restUrl =
    exchange === 'binance'
      ? checkUrl(opts.binanceRestUrl ?? BINANCE_REST_URL, '--binance-rest-url', BINANCE_REST_URL)
      : checkUrl(opts.coinbaseRestUrl ?? COINBASE_REST_URL, '--coinbase-rest-url', COINBASE_REST_URL);
  const maxWeight = positiveInt(opts.maxWeight ?? '4800', '--max-weight', 6000, 25);
  return { exchange, symbol, start: opts.start!.trim(), end: opts.end!.trim(), restUrl, timeUnit, maxWeight };
}

/**
 * The checked backfill with the exchange's own name for its symbol, from the exchange's listing (else the cached
 * one, else Binance's built-in table) as ingest resolves `--symbols`: one line and exit 2 when it is not listed.
 */
export async function resolveBackfill(b: Backfill, opts: BackfillOptions, ctx: CommandContext): Promise<ResolvedBackfill> {
  const directories = await resolveSymbols({
    exchanges: [b.exchange],
    symbols: [b.symbol],
    // Only the exchange read is asked for: the other URL is never fetched.
    restUrls: { binance: b.restUrl, coinbase: b.restUrl },
    cacheDir: path.resolve(ctx.cwd, opts.symbolsCache ?? DEFAULT_SYMBOLS_CACHE_DIR),
    logger: ctx.logger,
    now: () => ctx.clock.now(),
    option: '--symbol',
  });
  return { ...b, exchangeSymbol: directories[b.exchange]?.get(b.symbol) ?? b.symbol };
}

/** The job's own arguments (after `historical-loader`), the same locally and on EMR. */
export function loaderArgs(b: ResolvedBackfill): string[] {
  return [
    '--exchange',
    b.exchange,
    '--symbol',
    b.symbol,
    '--exchange-symbol',
    b.exchangeSymbol,
    '--start',
    b.start,
    '--end',
    b.end,
    '--base-url',
    b.restUrl,
    ...(b.exchange === 'binance' ? ['--binance-time-unit', b.timeUnit, '--max-weight', String(b.maxWeight)] : []),
    '--json',
  ];
}

// ---------------------------------------------------------------- the summary

const count = z.number().int().nonnegative();
/** What `historical-loader --json` prints on stdout: the fields rendered here are checked, the others kept. */
export const LoadSummary = z.looseObject({
  exchange: z.string(),
  symbol: z.string(),
  start: z.string(),
  end: z.string(),
  table: z.string(),
  pages: count,
  trades: count,
  rejected: count,
  inserted: count,
  already_present: count,
  commits: count,
  snapshot_id: z.string().nullable(),
  rest: z.looseObject({ requests: count, weight_spent: count, max_used_weight: count, waited_s: z.number().nonnegative() }),
});
export type LoadSummary = z.infer<typeof LoadSummary>;

/** The summary for people, one figure a line. */
export function renderSummary(s: LoadSummary): string {
  const weight = s.exchange === 'binance' ? `, weight ${s.rest.weight_spent} (busiest minute ${s.rest.max_used_weight})` : '';
  const rows: [string, string][] = [
    ['pages', String(s.pages)],
    ['trades fetched', String(s.trades)],
    ['inserted', String(s.inserted)],
    ['already there', String(s.already_present)],
    ['rejected', String(s.rejected)],
    ['requests', `${s.rest.requests}${weight}, ${s.rest.waited_s.toFixed(1)} s waited`],
    ['snapshot', s.snapshot_id ?? '-'],
  ];
  return [
    `${s.exchange} ${s.symbol} from ${s.start} to ${s.end} into ${s.table} (${s.commits} commits)`,
    ...rows.map(([k, v]) => `  ${k.padEnd(15)} ${v}`),
    ...(s.snapshot_id ? [`see it: coattail reprocess --as-of ${s.snapshot_id}`] : []),
  ]
    .join('\n')
    .concat('\n');
}

/** The summary line on stdout, checked; a CoattailError when the Python side printed something else. */
export function parseSummary(stdout: string): { line: string; summary: LoadSummary } {
  const { line, value: parsed } = lastJsonLine(stdout, 'the backfill printed no summary');
  const checked = LoadSummary.safeParse(parsed);
  if (!checked.success)
    throw new CoattailError(
      'the backfill printed a summary of another shape',
      checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      'check jobs-py is up to date (make install-py)',
    );
  return { line, summary: checked.data };
}

/** `coattail backfill`: 0 done, 2 bad usage (here or from the Python side), 1 the exchange stopped the load. */
export async function backfill(opts: BackfillOptions, ctx: CommandContext, deps: JobsDeps = {}): Promise<number> {
  const checked = await resolveBackfill(checkBackfill(opts), opts, ctx);
  if (opts.emr) {
    const { symbol: _s, start: _a, end: _b, exchange: _e, binanceRestUrl: _u, coinbaseRestUrl: _c, binanceTimeUnit: _t, ...rest } = opts;
    const { maxWeight: _w, warehouse: _h, emr: _m, symbolsCache: _y, ...submit } = rest;
    return submitToEmr(LOADER_JOB, [], loaderArgs(checked), submit, ctx, deps);
  }
  const warehouse = path.resolve(ctx.cwd, opts.warehouse ?? '.coattail/warehouse');
  const python = await ensureJobsPython(ctx, { spark: true });
  const args = [...PYTHON_JOBS_ENTRY, LOADER_JOB, ...loaderArgs(checked), '--warehouse', warehouse];
  ctx.logger.debug('starting the backfill', { python, args: args.join(' ') });
  const { code, stdout } = await runJobsPython(python, args, ctx, true, { spark: { command: 'backfill', stage: 'backfilling' } });
  if (code !== 0) return code;
  const { line, summary } = parseSummary(stdout);
  ctx.stdout.write(opts.json ? `${line}\n` : renderSummary(summary));
  return 0;
}
