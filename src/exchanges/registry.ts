/**
 * Every exchange coattail reads, one line each: its name (in `--exchanges`, `event_id` and the tables),
 * the name people read, and its public WebSocket and REST endpoints (the `--<name>-url` defaults). The
 * unified trade's `exchange` and `event_id`, the engine's messages and `--exchanges` all derive from it.
 *
 * Adding an exchange: a folder `src/exchanges/<name>/` (`messages.ts`, `mapper.ts`, `feed.ts`, as the two
 * here), one line below, and its feed in `src/ingest/feeds.ts` (the compiler asks for it), with tests
 * (docs/ARCHITECTURE.md, "To change X, go to Y").
 */
export const EXCHANGE_REGISTRY = {
  binance: { displayName: 'Binance', wsUrl: 'wss://stream.binance.com:9443', restUrl: 'https://api.binance.com' },
  coinbase: { displayName: 'Coinbase', wsUrl: 'wss://ws-feed.exchange.coinbase.com', restUrl: 'https://api.exchange.coinbase.com' },
} as const satisfies Record<string, ExchangeEntry>;

export interface ExchangeEntry {
  displayName: string;
  /** The public WebSocket endpoint (Binance's combined-stream base, Coinbase's feed). */
  wsUrl: string;
  /** The public REST endpoint (trade history for backfill). */
  restUrl: string;
}

export type Exchange = keyof typeof EXCHANGE_REGISTRY;

/** The exchanges' names, in the registry's order. */
export const EXCHANGES = Object.keys(EXCHANGE_REGISTRY) as [Exchange, ...Exchange[]];

export function displayName(exchange: Exchange): string {
  return EXCHANGE_REGISTRY[exchange].displayName;
}
