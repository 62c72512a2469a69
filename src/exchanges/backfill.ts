/**
 * Closing confirmed gaps over REST: each gap of a feed is fetched in turn (one at a time, so the
 * exchange's rate limits stay far away) and every fetched trade still missing is emitted through the
 * feed's sequence bookkeeping, which makes a late live copy a duplicate. A gap is given up when it
 * is wider than `maxGapTrades`, when it takes longer than `gapDeadlineMs` (rate-limit waits and retries
 * included), or when the run stops and `stopDeadlineMs` has passed; what stays missing is logged with
 * its ranges and stays counted.
 */
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { UnifiedTrade } from '../trade.js';
import type { TradeGap, TradeSequences } from './sequences.js';
import type { HistoricalTrade, TradeHistory } from './types.js';

export interface BackfillLimits {
  /** A gap wider than this many trades is not fetched (it is as many pages of 1000). */
  maxGapTrades: number;
  /** How long one gap may take, waits and retries included. */
  gapDeadlineMs: number;
  /** On stop: how long the gaps still open may take, all together. */
  stopDeadlineMs: number;
}

export const DEFAULT_BACKFILL_LIMITS: BackfillLimits = { maxGapTrades: 10_000, gapDeadlineMs: 120_000, stopDeadlineMs: 10_000 };

export class GapBackfill {
  private readonly queue: TradeGap[] = [];
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private stopDeadline = Number.POSITIVE_INFINITY;

  constructor(
    private readonly history: TradeHistory,
    /** The feed's bookkeeping: a fetched trade is emitted only if its id is still missing there. */
    private readonly sequences: Pick<TradeSequences, 'fill' | 'stillMissing'>,
    private readonly emit: (trade: UnifiedTrade) => void,
    private readonly logger: Logger,
    private readonly limits: BackfillLimits = DEFAULT_BACKFILL_LIMITS,
  ) {}

  enqueue(gap: TradeGap): void {
    this.queue.push(gap);
    this.running ??= this.run().finally(() => (this.running = undefined));
  }

  /** Waits for the gaps queued (and any a forced settle adds) for at most `ms`, then gives up the rest. */
  async finish(ms = this.limits.stopDeadlineMs): Promise<void> {
    this.stopDeadline = Date.now() + ms;
    const timer = setTimeout(() => this.stopping.abort(), ms);
    try {
      while (this.running) await this.running;
    } finally {
      clearTimeout(timer);
    }
  }

  private deliver({ trade, seq }: HistoricalTrade): void {
    // false: the live feed delivered it meanwhile (or it is not an id we wait for).
    if (this.sequences.fill(trade.symbol, seq, Date.parse(trade.timestamp))) this.emit(trade);
  }

  private async run(): Promise<void> {
    for (let gap = this.queue.shift(); gap; gap = this.queue.shift()) await this.backfill(gap);
  }

  private async backfill(gap: TradeGap): Promise<void> {
    const { symbol, from, to } = gap;
    const size = to - from + 1;
    let why: string | undefined;
    if (size > this.limits.maxGapTrades) {
      why = `${size} trades is more than the ${this.limits.maxGapTrades} a gap may fetch`;
    } else {
      const deadline = Math.min(Date.now() + this.limits.gapDeadlineMs, this.stopDeadline);
      // Aborted at the deadline or when the stop's time is up; the listener goes with the gap.
      const ended = new AbortController();
      const end = (): void => ended.abort();
      const timer = setTimeout(end, Math.max(0, deadline - Date.now()));
      this.stopping.signal.addEventListener('abort', end, { once: true });
      if (this.stopping.signal.aborted) end();
      try {
        for await (const page of this.history.fetch(symbol, from, to, { signal: ended.signal, deadline }))
          for (const t of page) this.deliver(t);
      } catch (err) {
        why = errorMessage(err);
      } finally {
        clearTimeout(timer);
        this.stopping.signal.removeEventListener('abort', end);
      }
    }
    const left = this.sequences.stillMissing(symbol, from, to);
    if (left.length === 0) {
      this.logger.info('trade-id gap backfilled over REST', { symbol, from, to });
      return;
    }
    const missing = left.reduce((n, [a, b]) => n + b - a + 1, 0);
    this.logger.warn('trades still missing after backfill', {
      symbol,
      missing,
      ranges: left.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(','),
      why: why ?? 'the exchange did not return them',
    });
  }
}
