import type { FeedSpec } from '../types.js';
import { mapCoinbase } from './mapper.js';

// Coinbase sends a heartbeat per product every second on the `heartbeat` channel, so ten quiet
// seconds mean the connection is dead even if TCP has not noticed. Subscribe within 5 s of opening.
const STALE_AFTER_MS = 10_000;

export interface CoinbaseFeedOptions {
  url: string;
  symbols: string[];
  staleAfterMs?: number;
}

export function coinbaseSubscribeMessage(productIds: string[]): string {
  return JSON.stringify({ type: 'subscribe', product_ids: productIds, channels: ['matches', 'heartbeat'] });
}

export function coinbaseFeed(opts: CoinbaseFeedOptions): FeedSpec {
  return {
    exchange: 'coinbase',
    url: opts.url,
    subscribeMessages: [coinbaseSubscribeMessage(opts.symbols)],
    staleAfterMs: opts.staleAfterMs ?? STALE_AFTER_MS,
    symbols: opts.symbols,
    map: mapCoinbase,
  };
}
