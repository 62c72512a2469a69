import type { Exchange, UnifiedTrade } from '../trade.js';

/**
 * What one exchange frame means to the pipeline. Mappers are pure: text in, one event out,
 * no I/O and no clock (the receive time is passed in).
 */
export type FeedEvent =
  /** A trade. `seq` is the numeric trade id, consecutive per (exchange, symbol), for dedupe and gaps. */
  | { kind: 'trade'; trade: UnifiedTrade; seq: number }
  /** The exchange says the last trade id it printed for a symbol (Coinbase `heartbeat`). */
  | { kind: 'heartbeat'; symbol: string; lastSeq?: number }
  /** A planned disconnect is coming: open a new connection now (Binance `serverShutdown`). */
  | { kind: 'shutdown' }
  /** Subscription acknowledgements and other protocol chatter. */
  | { kind: 'control'; detail: string }
  /** The exchange reports an error about our request; `fatal` when retrying cannot help (a refused subscription). */
  | { kind: 'exchange_error'; detail: string; fatal: boolean }
  /** Well-formed but not for us (another event type): counted and skipped with a debug log. */
  | { kind: 'ignored'; detail: string }
  /** Malformed or unexpected: counted and skipped with a debug log. */
  | { kind: 'rejected'; reason: string };

export type Mapper = (text: string, receivedAtMs: number) => FeedEvent;

/** A feed describes one exchange connection; the engine acts on it. */
export interface FeedSpec {
  exchange: Exchange;
  /** The URL to open, subscriptions included where the exchange puts them in the URL. */
  url: string;
  /** Messages sent right after the socket opens (Coinbase must subscribe within 5 s). */
  subscribeMessages: string[];
  /** Reconnect when nothing at all (frame, ping, pong) arrives for this long. */
  staleAfterMs: number;
  /** Make-before-break reconnect when a connection reaches this age (Binance cuts at 24 h). */
  maxConnectionAgeMs?: number;
  /** Symbols (unified) this feed subscribes to. */
  symbols: string[];
  map: Mapper;
}
