/** Binance spot WebSocket market-stream messages, as the exchange sends them. */

/** `<symbol>@trade`. `b`/`a` (order ids) were removed on 2024-06-18; older recordings carry them. */
export interface BinanceTradeEvent {
  e: 'trade';
  /** Event time. */
  E: number;
  /** Symbol, upper case: `BTCUSDT`. */
  s: string;
  /** Trade id, consecutive per symbol. */
  t: number;
  /** Price, decimal string. */
  p: string;
  /** Quantity, decimal string. */
  q: string;
  /** Trade time: ms, or µs when the URL asks `timeUnit=MICROSECOND`. */
  T: number;
  /** Buyer is the maker: true means the taker SOLD. */
  m: boolean;
  M?: boolean;
  b?: number;
  a?: number;
}

/** Combined streams wrap every event: `{"stream":"btcusdt@trade","data":{...}}`. */
export interface BinanceCombined {
  stream: string;
  data: unknown;
}

/** `{"e":"serverShutdown","E":...}`: the server will close this connection soon, with no promised lead time. */
export interface BinanceServerShutdown {
  e: 'serverShutdown';
  E: number;
}
