import type { Exchange } from '../trade.js';

export interface TradeGap {
  exchange: Exchange;
  symbol: string;
  /** First missing trade id. */
  from: number;
  /** Last missing trade id. */
  to: number;
  count: number;
}

// Missing ids are remembered (to accept them if they arrive late, e.g. from the old connection during a
// make-before-break switch) only for gaps up to this size; larger gaps are counted and logged only.
const MAX_TRACKED_MISSING = 10_000;

interface SymbolState {
  last: number;
  missing: Set<number>;
}

/**
 * Per-symbol trade-id bookkeeping shared by all connections of one feed: drops trades already
 * emitted (reconnect overlaps, a repeated `last_match`) and reports jumps in the ids as gaps.
 */
export class TradeSequences {
  private readonly bySymbol = new Map<string, SymbolState>();
  private gapCount = 0;
  private missingNow = 0;

  constructor(
    private readonly exchange: Exchange,
    private readonly onGap: (gap: TradeGap) => void = () => {},
  ) {}

  /** True when the trade is new and must be emitted; false for a duplicate. */
  accept(symbol: string, seq: number): boolean {
    const state = this.bySymbol.get(symbol);
    if (!state) {
      this.bySymbol.set(symbol, { last: seq, missing: new Set() });
      return true;
    }
    if (seq > state.last) {
      if (seq > state.last + 1) this.recordGap(symbol, state, state.last + 1, seq - 1);
      state.last = seq;
      return true;
    }
    if (state.missing.delete(seq)) {
      this.missingNow -= 1; // a late arrival fills part of an earlier gap
      return true;
    }
    return false;
  }

  /** The exchange's word on the last trade id it printed: anything beyond what we saw is missing. */
  observeLast(symbol: string, lastSeq: number): void {
    const state = this.bySymbol.get(symbol);
    if (!state || lastSeq <= state.last) return;
    this.recordGap(symbol, state, state.last + 1, lastSeq);
    state.last = lastSeq;
  }

  /** Gaps seen so far, and trades still missing (gaps less late arrivals). */
  totals(): { gaps: number; missingTrades: number } {
    return { gaps: this.gapCount, missingTrades: this.missingNow };
  }

  private recordGap(symbol: string, state: SymbolState, from: number, to: number): void {
    const count = to - from + 1;
    this.gapCount += 1;
    this.missingNow += count;
    if (count <= MAX_TRACKED_MISSING) for (let id = from; id <= to; id++) state.missing.add(id);
    // Keep the set bounded over a long run: forget the oldest ids first.
    while (state.missing.size > MAX_TRACKED_MISSING) {
      const oldest = state.missing.values().next().value as number;
      state.missing.delete(oldest);
    }
    this.onGap({ exchange: this.exchange, symbol, from, to, count });
  }
}
