import type { Exchange } from '../trade.js';

export interface TradeGap {
  exchange: Exchange;
  symbol: string;
  /** First missing trade id. */
  from: number;
  /** Last missing trade id. */
  to: number;
  /** Trades of the range still missing when the gap was confirmed. */
  count: number;
}

export interface SequenceOptions {
  /**
   * A jump in ids is only a provisional gap for this long: during a make-before-break switch, or when a
   * Coinbase heartbeat overtakes its match, the "missing" trades may still arrive on the other path.
   */
  settleMs?: number;
  onGap?: (gap: TradeGap) => void;
  /** Ids that go backwards by more than the tracked window: the exchange restarted its sequence. */
  onReset?: (info: { exchange: Exchange; symbol: string; last: number; seq: number }) => void;
}

// Missing ids are remembered (to accept them if they arrive late) only for gaps up to this size, and
// an id this far below the last one cannot be a duplicate we could know of: it is a sequence reset.
const TRACKED_WINDOW = 10_000;

interface PendingGap {
  from: number;
  to: number;
  at: number;
}

interface SymbolState {
  last: number;
  missing: Set<number>;
  pending: PendingGap[];
}

/**
 * Per-symbol trade-id bookkeeping shared by all connections of one feed: drops trades already
 * emitted (reconnect overlaps, a repeated `last_match`) and reports jumps in the ids as gaps once
 * they have had time to fill.
 */
export class TradeSequences {
  private readonly bySymbol = new Map<string, SymbolState>();
  private readonly settleMs: number;
  private gapCount = 0;
  private missingNow = 0;

  constructor(
    private readonly exchange: Exchange,
    private readonly opts: SequenceOptions = {},
  ) {
    this.settleMs = opts.settleMs ?? 2_000;
  }

  /** True when the trade is new and must be emitted; false for a duplicate. */
  accept(symbol: string, seq: number, now: number): boolean {
    const state = this.bySymbol.get(symbol);
    if (!state) {
      this.bySymbol.set(symbol, { last: seq, missing: new Set(), pending: [] });
      return true;
    }
    if (seq > state.last) {
      if (seq > state.last + 1) this.openGap(state, state.last + 1, seq - 1, now);
      state.last = seq;
      return true;
    }
    if (state.missing.delete(seq)) {
      if (!state.pending.some((g) => seq >= g.from && seq <= g.to)) this.missingNow -= 1; // fills a confirmed gap
      return true;
    }
    if (state.last - seq > TRACKED_WINDOW) {
      this.opts.onReset?.({ exchange: this.exchange, symbol, last: state.last, seq });
      this.bySymbol.set(symbol, { last: seq, missing: new Set(), pending: [] }); // unconfirmed gaps go with it
      return true;
    }
    return false;
  }

  /** The exchange's word on the last trade id it printed: anything beyond what we saw is missing. */
  observeLast(symbol: string, lastSeq: number, now: number): void {
    const state = this.bySymbol.get(symbol);
    if (!state || lastSeq <= state.last) return;
    this.openGap(state, state.last + 1, lastSeq, now);
    state.last = lastSeq;
  }

  /** Confirms provisional gaps older than the settle time (all of them with `force`): logged and counted. */
  settle(now: number, force = false): void {
    for (const [symbol, state] of this.bySymbol) {
      if (state.pending.length === 0) continue;
      const keep: PendingGap[] = [];
      for (const gap of state.pending) {
        if (!force && now - gap.at < this.settleMs) {
          keep.push(gap);
          continue;
        }
        const size = gap.to - gap.from + 1;
        let count = size;
        if (size <= TRACKED_WINDOW) {
          count = 0;
          for (let id = gap.from; id <= gap.to; id++) if (state.missing.has(id)) count += 1;
        }
        if (count === 0) continue; // filled in time: no gap after all
        this.gapCount += 1;
        this.missingNow += count;
        this.opts.onGap?.({ exchange: this.exchange, symbol, from: gap.from, to: gap.to, count });
      }
      state.pending = keep;
    }
  }

  /** Confirmed gaps so far, and trades still missing from them (late arrivals subtracted). */
  totals(): { gaps: number; missingTrades: number } {
    return { gaps: this.gapCount, missingTrades: this.missingNow };
  }

  private openGap(state: SymbolState, from: number, to: number, now: number): void {
    state.pending.push({ from, to, at: now });
    if (to - from + 1 <= TRACKED_WINDOW) for (let id = from; id <= to; id++) state.missing.add(id);
    // Keep the set bounded over a long run: forget the oldest ids first.
    while (state.missing.size > TRACKED_WINDOW) {
      const oldest = state.missing.values().next().value as number;
      state.missing.delete(oldest);
    }
  }
}
