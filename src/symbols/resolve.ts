/**
 * `--symbols` resolved against what each exchange lists: its listing fetched at start, else the listing
 * cached by an earlier start, else (Binance) the built-in asset table. The result maps each unified
 * symbol to the exchange's own name for it: the Binance stream names and the mapper follow from it.
 */
import path from 'node:path';
import { BASE_ASSETS, QUOTE_ASSETS, splitConcatenatedSymbol } from '../core/symbols.js';
import { errorMessage, usageError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { displayName, type Exchange } from '../exchanges/registry.js';
import { cacheFile, readCachedListing, writeCachedListing } from './cache.js';
import { closest } from './closest.js';
import { fetchListing } from './fetch.js';
import { LISTING_ENDPOINTS, type ListedSymbol, type Listing } from './listing.js';

/** Unified symbol → the exchange's own name for it, for the symbols asked for. */
export type SymbolDirectory = ReadonlyMap<string, string>;
export type SymbolDirectories = Partial<Record<Exchange, SymbolDirectory>>;

export interface ResolveOptions {
  exchanges: readonly Exchange[];
  /** Unified `BASE-QUOTE` symbols, upper case. */
  symbols: readonly string[];
  restUrls: Record<Exchange, string>;
  cacheDir: string;
  logger: Logger;
  now: () => number;
  timeoutMs?: number;
  /** The option the symbols came from, named in the refusal (default `--symbols`). */
  option?: string;
}

/** Where the listing that decided came from, for the messages; `say` logs it (once the symbols are all found). */
type Provenance = ({ kind: 'fetched' | 'cached'; listing: Listing } | { kind: 'built-in'; listing?: Listing }) & { say: () => void };

export async function resolveSymbols(o: ResolveOptions): Promise<SymbolDirectories> {
  const found = await Promise.all(o.exchanges.map(async (e) => [e, await findListing(e, o)] as const));
  const directories: SymbolDirectories = {};
  // A symbol not listed ends the start with its one line (which says where the listing came from), so the
  // logs about the listings come after every symbol is found.
  for (const [exchange, provenance] of found) directories[exchange] = directoryOf(exchange, provenance, o.symbols, o.option ?? '--symbols');
  for (const [exchange, provenance] of found) {
    provenance.say();
    for (const s of o.symbols) {
      const entry = provenance.listing?.symbols.find((l) => l.unified === s);
      if (entry && !entry.trading)
        o.logger.warn(`${displayName(exchange)} lists ${s} but does not trade it now (${entry.status}): expect no trades for it`);
    }
  }
  return directories;
}

async function findListing(exchange: Exchange, o: ResolveOptions): Promise<Provenance> {
  const restUrl = o.restUrls[exchange];
  const file = cacheFile(path.resolve(o.cacheDir), exchange, restUrl);
  const what = `${displayName(exchange)}'s ${LISTING_ENDPOINTS[exchange].name}`;
  const fetched = await fetchListing(exchange, restUrl, o.now, o.timeoutMs);
  if (typeof fetched !== 'string') {
    let keptError: string | undefined;
    try {
      writeCachedListing(file, restUrl, fetched);
    } catch (err) {
      keptError = errorMessage(err);
    }
    const say = (): void => {
      o.logger.info(`symbols resolved from ${what}`, { listed: fetched.symbols.length, from: restUrl });
      if (keptError) o.logger.warn(`could not keep ${what} for starts without the network`, { file, error: keptError });
    };
    return { kind: 'fetched', listing: fetched, say };
  }
  const cached = readCachedListing(file, exchange);
  if (cached && !('unusable' in cached)) {
    const say = (): void =>
      o.logger.warn(`${what} could not be fetched: using the listing cached at ${iso(cached.fetchedAtMs)}`, { why: fetched, file });
    return { kind: 'cached', listing: cached, say };
  }
  const cacheNote = cached ? `the cached listing is unusable (${cached.unusable})` : 'no listing is cached';
  if (exchange === 'binance') {
    const say = (): void =>
      o.logger.warn(`${what} could not be fetched and ${cacheNote}: using the built-in asset table`, { why: fetched, file });
    return { kind: 'built-in', listing: builtInBinanceListing(o.now()), say };
  }
  const say = (): void =>
    o.logger.warn(`${what} could not be fetched and ${cacheNote}: the symbols are used as product ids unchecked`, { why: fetched, file });
  return { kind: 'built-in', say };
}

/** What the built-in table makes of every base × quote pair it knows (`ARBUSD` is ARB-USD to it). */
function builtInBinanceListing(now: number): Listing {
  const symbols: ListedSymbol[] = [];
  for (const base of BASE_ASSETS) {
    for (const quote of QUOTE_ASSETS) {
      const parts = splitConcatenatedSymbol(`${base}${quote}`);
      if (parts?.unified === `${base}-${quote}`)
        symbols.push({ exchangeSymbol: `${base}${quote}`, base, quote, unified: parts.unified, trading: true, status: 'built-in' });
    }
  }
  return { exchange: 'binance', fetchedAtMs: now, symbols };
}

function directoryOf(exchange: Exchange, provenance: Provenance, symbols: readonly string[], option: string): SymbolDirectory {
  const { listing } = provenance;
  if (!listing) return new Map(symbols.map((s) => [s, s]));
  const byUnified = new Map(listing.symbols.map((s) => [s.unified, s]));
  const unknown = symbols.filter((s) => !byUnified.has(s));
  if (unknown.length > 0) throw notListed(exchange, provenance, unknown, byUnified.keys(), option);
  return new Map(symbols.map((s) => [s, byUnified.get(s)!.exchangeSymbol]));
}

function notListed(exchange: Exchange, provenance: Provenance, unknown: string[], listed: Iterable<string>, option: string): Error {
  const name = displayName(exchange);
  const source = LISTING_ENDPOINTS[exchange].name;
  const why =
    provenance.kind === 'built-in'
      ? `the built-in asset table has no such pair (${name}'s ${source} could not be fetched, and none is cached)`
      : `no such pair in its ${source} (${provenance.kind} ${iso(provenance.listing.fetchedAtMs)})`;
  const names = [...listed];
  const suggestions = unknown.map((s) => {
    const near = closest(s, names).join(', ');
    return unknown.length === 1 ? `the closest listed are ${near}` : `closest to ${s}: ${near}`;
  });
  return usageError(
    `${name} does not list ${unknown.join(', ')}`,
    why,
    option === '--symbols'
      ? `${suggestions.join('; ')}: pick one or drop it from --symbols`
      : `${suggestions.join('; ')}: pass one of those to ${option}`,
  );
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
