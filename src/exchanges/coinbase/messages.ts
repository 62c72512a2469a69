/** Coinbase Exchange WebSocket feed messages (public `matches` and `heartbeat` channels). */

/**
 * A trade. `side` is the MAKER order's side, so the taker (aggressor) side is the opposite.
 * `sequence` counts every order event of the product, so with only `matches` it jumps: gaps are
 * found with `trade_id`, which is consecutive per product.
 */
export interface CoinbaseMatch {
  type: 'match' | 'last_match';
  trade_id: number;
  sequence: number;
  maker_order_id: string;
  taker_order_id: string;
  /** ISO-8601 UTC with microseconds: `2014-11-07T08:19:27.028459Z`. */
  time: string;
  product_id: string;
  size: string;
  price: string;
  side: 'buy' | 'sell';
}

/** Once a second per product; `last_trade_id` reveals trades we did not receive. */
export interface CoinbaseHeartbeat {
  type: 'heartbeat';
  sequence: number;
  last_trade_id: number;
  product_id: string;
  time: string;
}

export interface CoinbaseSubscribe {
  type: 'subscribe';
  product_ids: string[];
  channels: string[];
}
