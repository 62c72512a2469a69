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

/** A trade fetched over REST: the same unified trade the live feed gives, and its numeric id. */
export interface HistoricalTrade {
  trade: UnifiedTrade;
  seq: number;
}

/**
 * An exchange's REST trade history, for closing gaps: the trades of one symbol with ids in
 * [from, to], page by page (each page as it arrives). It throws `BackfillError` when it gives up
 * (refused, rate-limited past the deadline, unreachable).
 */
export interface TradeHistory {
  fetch(symbol: string, from: number, to: number, bounds: FetchBounds): AsyncIterable<HistoricalTrade[]>;
}

export interface FetchBounds {
  /** Aborts the requests (the run stops, or the deadline passed). */
  signal: AbortSignal;
  /** Epoch ms: a wait the exchange asks for that ends later gives up at once. */
  deadline: number;
}

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
  /** Where confirmed gaps are fetched from; absent (`--no-backfill`): gaps are only counted. */
  history?: TradeHistory;
}
