/** One GET of an exchange's listing, bounded in time so a start without the network is not held up. */
import { errorMessage } from '../core/errors.js';
import type { Exchange } from '../exchanges/registry.js';
import { LISTING_ENDPOINTS, type Listing } from './listing.js';

/**
 * How long the listing may take, connection and body together. Binance's exchangeInfo is a few
 * megabytes; an unreachable host (no route, no DNS) fails well before this.
 */
export const LISTING_TIMEOUT_MS = 5_000;

/** The exchange's listing, or why it could not be had (one phrase, for a log line). */
export async function fetchListing(
  exchange: Exchange,
  restUrl: string,
  now: () => number,
  timeoutMs = LISTING_TIMEOUT_MS,
): Promise<Listing | string> {
  const endpoint = LISTING_ENDPOINTS[exchange];
  const url = `${restUrl.replace(/\/+$/, '')}${endpoint.path}`;
  let body: unknown;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (!res.ok) {
      await res.body?.cancel();
      return `GET ${url} answered HTTP ${res.status}`;
    }
    body = await res.json();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
      return `GET ${url} took longer than ${timeoutMs / 1000} s`;
    return `GET ${url} failed (${cause ?? errorMessage(err)})`;
  }
  const symbols = endpoint.read(body);
  if (typeof symbols === 'string') return `GET ${url}: ${symbols}`;
  return { exchange, fetchedAtMs: now(), symbols };
}
