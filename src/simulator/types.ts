import type { Exchange, TakerSide } from '../trade.js';
import type { MarketTrade } from './market/generator.js';

/**
 * A trade as the simulator printed it: the ground truth that tests compare an ingester's output with.
 * `price` and `size` are the exact decimal values in their shortest form (`65000.01`, `0.0012`); the
 * exchange frames carry the same values in each exchange's own formatting.
 */
export interface PrintedTrade {
  exchange: Exchange;
  /** `BASE-QUOTE`, e.g. `BTC-USDT`. */
  symbol: string;
  /** Consecutive per (exchange, symbol). */
  tradeId: number;
  price: string;
  size: string;
  /** The aggressor's side. */
  takerSide: TakerSide;
  /** Wall-clock print time, epoch milliseconds. */
  timeMs: number;
  /** The same time, ISO-8601 UTC with microseconds. */
  timeIso: string;
}

/** A printed trade with what the protocol encoders need beyond the ground truth. */
export interface Print {
  readonly trade: PrintedTrade;
  /** Print time, epoch microseconds. */
  readonly timeUs: number;
  readonly source: MarketTrade;
}
