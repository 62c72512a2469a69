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
  /**
   * Ids went back and the trade is not one already emitted: the exchange restarted its sequence. The
   * trade is emitted, and the count goes on from its id.
   */
  onReset?: (info: SequenceRestart) => void;
}

export interface SequenceRestart {
  exchange: Exchange;
  symbol: string;
  /** The highest id before the restart. */
  last: number;
  /** The id that went back. */
  seq: number;
  why: string;
}

// Missing ids are remembered (to accept them if they arrive late) only for gaps up to this size, as are
// the times of the latest trades emitted; an id this far below the last one cannot be a duplicate we
// could know of: it is a sequence reset.
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
  /** The latest trade time emitted (epoch ms); -Infinity when no time was given. */
  newest: number;
  /** Trade time by id of the latest trades emitted: a repeat carries the same time, a new trade under an old id does not. */
  seen: Map<number, number>;
  /**
   * Missing ids no longer waited for (dropped to keep `missing` bounded, or left behind by a restarted
   * sequence), as ranges: they can never be filled, and `stillMissing` still names them.
   */
  forgotten: Array<[number, number]>;
}

// At most this many forgotten ranges are kept (the oldest go first).
const FORGOTTEN_RANGES = 1_000;

/**
 * Per-symbol trade-id bookkeeping shared by all connections of one feed: drops trades already
 * emitted (reconnect overlaps, a repeated `last_match`), reports jumps in the ids as gaps once
 * they have had time to fill, and tells a restarted sequence from duplicates.
 */
export class TradeSequences {
  private readonly bySymbol = new Map<string, SymbolState>();
  private readonly settleMs: number;
  private gapCount = 0;
  private missingNow = 0;
  private restartCount = 0;
  private backfilledCount = 0;

  constructor(
    private readonly exchange: Exchange,
    private readonly opts: SequenceOptions = {},
  ) {
    this.settleMs = opts.settleMs ?? 2_000;
  }

  /**
   * True when the trade is new and must be emitted; false for a duplicate. `timeMs` is the trade's own
   * time (epoch ms): it tells a restarted sequence from a repeat however close the ids are.
   */
  accept(symbol: string, seq: number, now: number, timeMs?: number): boolean {
    const state = this.bySymbol.get(symbol);
    if (!state) {
      this.bySymbol.set(symbol, newState(seq, timeMs));
      return true;
    }
    if (seq > state.last) {
      if (seq > state.last + 1) this.openGap(state, state.last + 1, seq - 1, now);
      state.last = seq;
      remember(state, seq, timeMs);
      return true;
    }
    if (state.missing.delete(seq)) {
      if (!state.pending.some((g) => seq >= g.from && seq <= g.to)) this.missingNow -= 1; // fills a confirmed gap
      remember(state, seq, timeMs);
      return true;
    }
    const why = restartSign(state, seq, timeMs);
    if (why === undefined) return false;
    this.restartCount += 1;
    // The old sequence's open gaps cannot fill any more: they are confirmed now, not forgotten; all but a
    // jump beyond the tracked window, which a bogus far-ahead id opens as easily as a real gap does.
    state.pending = state.pending.filter((g) => g.to - g.from + 1 <= TRACKED_WINDOW);
    this.confirm(symbol, state, now, true);
    this.opts.onReset?.({ exchange: this.exchange, symbol, last: state.last, seq, why });
    const next = newState(seq, timeMs);
    next.newest = Math.max(next.newest, state.newest);
    // The old sequence's missing ids cannot be fetched or filled any more: kept as forgotten, still missing.
    next.forgotten = state.forgotten;
    for (const id of [...state.missing].sort((a, b) => a - b)) forget(next, id);
    this.bySymbol.set(symbol, next);
    return true;
  }

  /**
   * A trade fetched over REST for a confirmed gap: true when its id is still missing (it is emitted
   * now, and a late live copy is a duplicate); false when the live feed delivered it meanwhile or the
   * id is not one we wait for.
   */
  fill(symbol: string, seq: number, timeMs?: number): boolean {
    const state = this.bySymbol.get(symbol);
    if (!state?.missing.delete(seq)) return false;
    if (!state.pending.some((g) => seq >= g.from && seq <= g.to)) this.missingNow -= 1;
    remember(state, seq, timeMs);
    this.backfilledCount += 1;
    return true;
  }

  /** The ids of [from, to] still missing, as ranges; a range beyond the tracked window counts whole. */
  stillMissing(symbol: string, from: number, to: number): Array<[number, number]> {
    if (to - from + 1 > TRACKED_WINDOW) return [[from, to]];
    const state = this.bySymbol.get(symbol);
    const ranges: Array<[number, number]> = [];
    if (!state) return ranges;
    const forgotten = state.forgotten.filter(([a, b]) => b >= from && a <= to);
    for (let id = from; id <= to; id++) {
      if (!state.missing.has(id) && !forgotten.some(([a, b]) => id >= a && id <= b)) continue;
      const last = ranges[ranges.length - 1];
      if (last && last[1] === id - 1) last[1] = id;
      else ranges.push([id, id]);
    }
    return ranges;
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
    for (const [symbol, state] of this.bySymbol) this.confirm(symbol, state, now, force);
  }

  /** Confirmed gaps so far, trades still missing from them (late arrivals and backfills subtracted), backfilled trades, and sequence restarts. */
  totals(): { gaps: number; missingTrades: number; backfilled: number; restarts: number } {
    return { gaps: this.gapCount, missingTrades: this.missingNow, backfilled: this.backfilledCount, restarts: this.restartCount };
  }

  private confirm(symbol: string, state: SymbolState, now: number, force: boolean): void {
    if (state.pending.length === 0) return;
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
        const forgotten = state.forgotten.filter(([a, b]) => b >= gap.from && a <= gap.to);
        for (let id = gap.from; id <= gap.to; id++) if (state.missing.has(id) || forgotten.some(([a, b]) => id >= a && id <= b)) count += 1;
      }
      if (count === 0) continue; // filled in time: no gap after all
      this.gapCount += 1;
      this.missingNow += count;
      this.opts.onGap?.({ exchange: this.exchange, symbol, from: gap.from, to: gap.to, count });
    }
    state.pending = keep;
  }

  private openGap(state: SymbolState, from: number, to: number, now: number): void {
    state.pending.push({ from, to, at: now });
    if (to - from + 1 <= TRACKED_WINDOW) for (let id = from; id <= to; id++) state.missing.add(id);
    // Keep the set bounded over a long run: forget the oldest ids first.
    while (state.missing.size > TRACKED_WINDOW) {
      const oldest = state.missing.values().next().value as number;
      state.missing.delete(oldest);
      forget(state, oldest);
    }
  }
}

function newState(seq: number, timeMs: number | undefined): SymbolState {
  const state: SymbolState = {
    last: seq,
    missing: new Set(),
    pending: [],
    newest: Number.NEGATIVE_INFINITY,
    seen: new Map(),
    forgotten: [],
  };
  remember(state, seq, timeMs);
  return state;
}

/** One missing id given up on: added to the forgotten ranges (ids come in rising order, so runs join). */
function forget(state: SymbolState, id: number): void {
  const last = state.forgotten[state.forgotten.length - 1];
  if (last && id === last[1] + 1) last[1] = id;
  else state.forgotten.push([id, id]);
  if (state.forgotten.length > FORGOTTEN_RANGES) state.forgotten.shift();
}

function remember(state: SymbolState, seq: number, timeMs: number | undefined): void {
  if (timeMs === undefined) return;
  state.newest = Math.max(state.newest, timeMs);
  state.seen.set(seq, timeMs);
  if (state.seen.size > TRACKED_WINDOW) state.seen.delete(state.seen.keys().next().value as number);
}

/**
 * Why an id at or below the last one (and not missing) is a new sequence rather than a repeat, or
 * undefined for a repeat. A repeat is the same trade, so it carries the time it had; a trade emitted
 * before is no newer than the newest emitted.
 */
function restartSign(state: SymbolState, seq: number, timeMs: number | undefined): string | undefined {
  if (state.last - seq > TRACKED_WINDOW) return `more than ${TRACKED_WINDOW} ids below the last`;
  if (timeMs === undefined) return undefined;
  const seenAt = state.seen.get(seq);
  if (seenAt !== undefined) return seenAt === timeMs ? undefined : 'an id already seen, on a trade of another time';
  return timeMs > state.newest ? 'an id already passed, on a trade newer than every trade seen' : undefined;
}
