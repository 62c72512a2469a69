import path from 'node:path';
import { positiveInt } from '../config/validate.js';
import type { CommandContext } from '../core/context.js';
import { durationOption, HOUR, SPAN } from '../core/duration.js';
import { usageError } from '../core/errors.js';
import { localEndpoints } from '../local/state.js';
import { resolveEndpoint } from '../aws/endpoint.js';
import { resolveAwsTarget, resolveLocalTarget } from '../aws/target.js';
import { DEFAULT_ALERTS_TABLE } from '../config/defaults.js';
import { WATCH_KINDS, minUsdApplies, type WatchKind } from '../watch/kinds.js';
import { watchView } from '../watch/view.js';

/** Options as commander hands them over (strings; environment variables already applied). */
export interface WatchOptions {
  minUsd?: string;
  since: string;
  symbols?: string;
  json?: boolean;
  local?: boolean;
  stateDir: string;
  region?: string;
  profile?: string;
  config?: string;
  env?: string;
  dynamodbEndpoint?: string;
  /** Unset: the config file's `alertsTable`, else coattail-alerts. */
  table?: string;
  intervalMs: string;
}

/** Below this the view would poll the table several times a second for nothing. */
const MIN_INTERVAL_MS = 50;
/** A view polled less than hourly is not live. */
const MAX_INTERVAL_MS = HOUR;
/** More than any alert's notional: a larger floor is a typo. */
const MAX_MIN_USD = 1_000_000_000_000;

export function parseKind(text: string): WatchKind {
  const kind = text.toLowerCase();
  if (!(WATCH_KINDS as readonly string[]).includes(kind)) {
    throw usageError(`cannot watch '${text}'`, `coattail watches ${WATCH_KINDS.join(', ')}`, 'run e.g. coattail watch whales');
  }
  return kind as WatchKind;
}

export function parseSince(text: string): number {
  return durationOption('--since', text, { ...SPAN, example: '15m' });
}

/** Upper-cased, deduplicated BASE-QUOTE symbols; empty (all symbols) when not given. */
export function parseWatchSymbols(text: string | undefined): string[] {
  if (text === undefined) return [];
  const list = [
    ...new Set(
      text
        .split(',')
        .map((s) => s.trim().toUpperCase())
        .filter((s) => s.length > 0),
    ),
  ];
  if (list.length === 0)
    throw usageError(
      'no symbols given',
      '--symbols is empty',
      'leave it out to watch every symbol, or pass e.g. --symbols BTC-USDT,ETH-USDT',
    );
  for (const s of list) {
    if (!/^[A-Z0-9]+-[A-Z0-9]+$/.test(s))
      throw usageError(`symbol '${s}' is not BASE-QUOTE`, 'symbols are written with a dash', 'write it like BTC-USDT');
  }
  return list;
}

function parseMinUsd(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.replace(/_/g, ''));
  if (text.trim() === '' || !Number.isFinite(n) || n < 0)
    throw usageError('--min-usd must be a number ≥ 0', `got '${text}'`, 'pass e.g. --min-usd 250000');
  if (n > MAX_MIN_USD)
    throw usageError(`--min-usd ${text} is out of range`, `it must be from 0 to ${MAX_MIN_USD}`, 'pass e.g. --min-usd 250000');
  return n;
}

function parseInterval(text: string): number {
  return positiveInt(text, '--interval-ms', MAX_INTERVAL_MS, MIN_INTERVAL_MS);
}

/**
 * `coattail watch whales|anomalies|spreads`: the alert table's newest alerts of one type, live. On a
 * terminal, an ink view; with `--json` or when stdout is not a terminal, NDJSON (one alert a line).
 */
export async function watch(kindText: string, opts: WatchOptions, ctx: CommandContext): Promise<number> {
  const kind = parseKind(kindText);
  const sinceMs = parseSince(opts.since);
  const symbols = parseWatchSymbols(opts.symbols);
  let minUsd = parseMinUsd(opts.minUsd);
  if (minUsd !== undefined && !minUsdApplies(kind)) {
    ctx.logger.warn('--min-usd does not apply to spreads (a spread alert has no traded amount); ignored');
    minUsd = undefined;
  }
  const intervalMs = parseInterval(opts.intervalMs);

  const target = opts.local ? resolveLocalTarget(opts, ctx) : await resolveAwsTarget(opts, ctx, 'optional');
  let endpoint = resolveEndpoint('dynamodb', opts.dynamodbEndpoint, ctx.env)?.value;
  let region = target.region?.value;
  if (opts.local && !endpoint) {
    const local = localEndpoints(path.resolve(ctx.cwd, opts.stateDir), ['dynamodb']);
    endpoint = local.dynamodbEndpoint;
    region = region ?? local.region;
  }
  return watchView(
    {
      kind,
      sinceMs,
      symbols,
      minUsd,
      intervalMs,
      table: opts.table ?? target.config.settings.alertsTable ?? DEFAULT_ALERTS_TABLE,
      endpoint,
      region,
      profile: target.profile?.value,
      local: opts.local === true,
      json: opts.json === true,
    },
    ctx,
  );
}
