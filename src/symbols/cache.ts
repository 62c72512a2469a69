/**
 * The listings as last fetched, one file per exchange and REST endpoint under `.coattail/symbols/`
 * (`binance.json` for the public endpoint, `binance-127.0.0.1-9443.json` for another), so a start without
 * the network still knows what the exchange lists.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../core/errors.js';
import { EXCHANGE_REGISTRY, type Exchange } from '../exchanges/registry.js';
import type { Listing } from './listing.js';

export const DEFAULT_SYMBOLS_CACHE_DIR = '.coattail/symbols';

const CacheFile = z.object({
  exchange: z.string(),
  source: z.string(),
  fetched_at: z.iso.datetime(),
  symbols: z.array(
    z.object({ symbol: z.string(), base: z.string(), quote: z.string(), unified: z.string(), trading: z.boolean(), status: z.string() }),
  ),
});

/** The cache file of an exchange's listing fetched from `restUrl`. */
export function cacheFile(dir: string, exchange: Exchange, restUrl: string): string {
  const trimmed = restUrl.replace(/\/+$/, '');
  if (trimmed === EXCHANGE_REGISTRY[exchange].restUrl) return path.join(dir, `${exchange}.json`);
  const where = trimmed.replace(/^[a-z]+:\/\//i, '').replace(/[^A-Za-z0-9.]+/g, '-');
  return path.join(dir, `${exchange}-${where}.json`);
}

/** Keeps the listing; the file is replaced whole (written aside, then renamed), never left half-written. */
export function writeCachedListing(file: string, restUrl: string, listing: Listing): void {
  const body = {
    exchange: listing.exchange,
    source: restUrl,
    fetched_at: new Date(listing.fetchedAtMs).toISOString(),
    symbols: listing.symbols.map((s) => ({
      symbol: s.exchangeSymbol,
      base: s.base,
      quote: s.quote,
      unified: s.unified,
      trading: s.trading,
      status: s.status,
    })),
  };
  mkdirSync(path.dirname(file), { recursive: true });
  const aside = `${file}.${process.pid}.tmp`;
  writeFileSync(aside, `${JSON.stringify(body)}\n`);
  renameSync(aside, file);
}

/** The cached listing, `undefined` when there is none, or why the file cannot be used. */
export function readCachedListing(file: string, exchange: Exchange): Listing | undefined | { unusable: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { unusable: errorMessage(err) };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { unusable: `not JSON (${errorMessage(err)})` };
  }
  const parsed = CacheFile.safeParse(json);
  if (!parsed.success || parsed.data.exchange !== exchange) return { unusable: `not a ${exchange} listing` };
  return {
    exchange,
    fetchedAtMs: Date.parse(parsed.data.fetched_at),
    symbols: parsed.data.symbols.map((s) => ({
      exchangeSymbol: s.symbol,
      base: s.base,
      quote: s.quote,
      unified: s.unified,
      trading: s.trading,
      status: s.status,
    })),
  };
}
