import type { Exchange, TakerSide } from '../../trade.js';
import { createPrng, deriveSeed, type Prng } from '../prng.js';
import type { Scenario, ScenarioEvent, SymbolMarket } from '../scenario.js';
import type { Scaled } from './amounts.js';

/**
 * The market, as a pure function of (scenario, seed, rate): a timeline of trades and scripted events
 * on a virtual clock. The printer only asks "what happened up to t seconds?", so the sequence of
 * trades is the same however often it asks, and whoever listens. No I/O, no wall clock.
 */

export interface MarketTrade {
  exchange: Exchange;
  symbol: string;
  tradeId: number;
  price: Scaled;
  size: Scaled;
  takerSide: TakerSide;
  /** Coinbase only: the product's feed sequence and the match's order ids. */
  venue?: { sequence: number; makerOrderId: string; takerOrderId: string };
}

export type TimelineItem =
  | { kind: 'trade'; trade: MarketTrade }
  /** `index` is the event's position in the scenario file; `seconds` is virtual time when it fired. */
  | { kind: 'event'; event: ScenarioEvent; index: number; seconds: number };

/** A trade of the history before the session: `seconds` is its virtual time, negative (0 is the open). */
export interface HistoryTrade {
  trade: MarketTrade;
  seconds: number;
}

export interface MarketStream {
  exchange: Exchange;
  symbol: string;
}

/** Digits of a decimal size for whales: fine enough that price × size lands within 0.01 % of the target. */
const WHALE_SIZE_DECIMALS = 8;
/** Coinbase sequences count every order event, not just matches: they jump between matches. */
const MAX_SEQUENCE_STEP = 40;

interface StreamState extends MarketStream {
  market: SymbolMarket;
  symbolIndex: number;
  nextId: number;
  sequence: number;
  /** Fixed offset of this exchange's prices from the mid, in percent. */
  offsetPct: number;
}

interface Window {
  streams: ReadonlySet<number>;
  value: number;
  endsAt: number;
}

interface Scheduled {
  event: ScenarioEvent;
  index: number;
}

export class Market {
  readonly streams: readonly MarketStream[];
  readonly initialTrades: readonly MarketTrade[];
  /** The scenario's history, oldest first (empty without one); then the session starts at second 0. */
  readonly history: readonly HistoryTrade[];
  private readonly prng: Prng;
  private readonly state: StreamState[];
  private readonly mids: number[];
  private readonly midUpdatedAt: number[];
  private readonly baseWeights: number[];
  private readonly rate: number;
  private readonly timed: Scheduled[];
  private readonly counted: Scheduled[];
  private timedIndex = 0;
  private countedIndex = 0;
  private spikes: Window[] = [];
  private dislocations: Window[] = [];
  private weights: number[];
  private totalRate: number;
  private nextTradeAt: number;
  /** Trade k since the last rate change prints at segmentStart + k / totalRate: no float drift. */
  private segmentStart = 0;
  private segmentIndex = 1;
  private time = 0;
  private printedCount = 0;
  private done = false;

  constructor(
    private readonly scenario: Scenario,
    seed: number = scenario.seed,
    rate: number = scenario.rate,
  ) {
    this.prng = createPrng(deriveSeed(seed, 0));
    this.rate = rate;
    this.mids = scenario.symbols.map((m) => m.startPrice);
    this.midUpdatedAt = scenario.symbols.map(() => 0);
    this.state = [];
    for (const exchange of scenario.exchanges) {
      scenario.symbols.forEach((market, symbolIndex) => {
        this.state.push({
          exchange,
          symbol: market.symbol,
          market,
          symbolIndex,
          nextId: exchange === 'binance' ? 1_000_000_000 + this.prng.int(1_000_000_000) : 10_000_000 + this.prng.int(90_000_000),
          sequence: 1_000_000_000 + this.prng.int(9_000_000_000),
          offsetPct: (this.prng.next() - 0.5) * scenario.exchangeOffsetPct,
        });
      });
    }
    this.streams = this.state.map(({ exchange, symbol }) => ({ exchange, symbol }));
    this.baseWeights = this.state.map((s) => s.market.weight);
    this.weights = [...this.baseWeights];
    this.totalRate = rate;
    this.nextTradeAt = 1 / rate;
    // Stable sorts: events at the same moment fire in file order.
    const all = scenario.events.map((event, index) => ({ event, index }));
    this.timed = all.filter((e) => e.event.at !== undefined).sort((a, b) => (a.event.at ?? 0) - (b.event.at ?? 0));
    this.counted = all.filter((e) => e.event.atTrade !== undefined).sort((a, b) => (a.event.atTrade ?? 0) - (b.event.atTrade ?? 0));
    // With a history, the clock starts that far back: the mid walks through it into the session.
    const historySeconds = scenario.history?.seconds ?? 0;
    this.time = -historySeconds;
    this.midUpdatedAt.fill(-historySeconds);
    // Every stream has printed once before the session, so Coinbase's last_match always exists.
    this.initialTrades = this.state.map((_, i) => this.ordinaryTrade(i));
    this.history = this.playHistory(historySeconds);
  }

  /**
   * The flow over [-seconds, 0) of virtual time: ordinary trades at the run's rate, no events. The
   * session's clock then starts at 0 as it would without a history, so events keep their times.
   */
  private playHistory(seconds: number): HistoryTrade[] {
    const out: HistoryTrade[] = [];
    for (let k = 0; seconds > 0; k += 1) {
      const at = -seconds + k / this.rate;
      if (at >= 0) break;
      this.time = at;
      out.push({ trade: this.ordinaryTrade(this.pickStream()), seconds: at });
    }
    this.time = 0;
    return out;
  }

  /** Session trades printed so far (the initial trades are not counted). */
  get printed(): number {
    return this.printedCount;
  }

  /** True once a bounded scenario (totalTrades or durationSeconds) has printed everything. */
  get finished(): boolean {
    return this.done;
  }

  /** Virtual seconds since generation started. */
  get seconds(): number {
    return this.time;
  }

  /** Everything that happens after the previous call, up to `seconds` of virtual time, in order. */
  advanceTo(seconds: number): TimelineItem[] {
    const out: TimelineItem[] = [];
    const { totalTrades, durationSeconds } = this.scenario;
    while (!this.done) {
      if (totalTrades !== undefined && this.printedCount >= totalTrades) {
        this.done = true;
        break;
      }
      const counted = this.counted[this.countedIndex];
      if (counted && (counted.event.atTrade ?? 0) <= this.printedCount) {
        this.countedIndex += 1;
        this.fire(counted, out);
        continue;
      }
      const expiry = this.nextExpiry();
      const timed = this.timed[this.timedIndex];
      const timedAt = timed?.event.at ?? Infinity;
      const next = Math.min(expiry, timedAt, this.nextTradeAt);
      if (durationSeconds !== undefined && next > durationSeconds) {
        if (seconds >= durationSeconds) {
          this.time = Math.max(this.time, durationSeconds);
          this.done = true;
        }
        break;
      }
      if (next > seconds) break;
      this.time = next;
      if (expiry === next) this.expire();
      else if (timed && timedAt === next) {
        this.timedIndex += 1;
        this.fire(timed, out);
      } else {
        out.push({ kind: 'trade', trade: this.ordinaryTrade(this.pickStream()) });
        this.printedCount += 1;
        this.segmentIndex += 1;
        this.nextTradeAt = this.segmentStart + this.segmentIndex / this.totalRate;
      }
    }
    this.time = Math.max(this.time, seconds);
    return out;
  }

  private fire(item: Scheduled, out: TimelineItem[]): void {
    const { event } = item;
    out.push({ kind: 'event', event, index: item.index, seconds: this.time });
    switch (event.type) {
      case 'whale': {
        const stream = this.streamIndex(event.exchange, event.symbol);
        out.push({ kind: 'trade', trade: this.whaleTrade(stream, event.side, event.quoteVolume) });
        this.printedCount += 1;
        break;
      }
      case 'volume_spike':
        this.spikes.push({
          streams: this.matching(event.symbol, event.exchange),
          value: event.multiplier,
          endsAt: this.time + event.durationSeconds,
        });
        this.reweigh();
        break;
      case 'dislocation':
        this.dislocations.push({
          streams: this.matching(event.symbol, event.exchange),
          value: event.pct,
          endsAt: this.time + event.durationSeconds,
        });
        break;
      default:
        // Connection events (disconnect, silence, …) change what clients receive, not what prints.
        break;
    }
  }

  private nextExpiry(): number {
    let soonest = Infinity;
    for (const w of this.spikes) soonest = Math.min(soonest, w.endsAt);
    for (const w of this.dislocations) soonest = Math.min(soonest, w.endsAt);
    return soonest;
  }

  private expire(): void {
    const live = (w: Window): boolean => w.endsAt > this.time;
    this.dislocations = this.dislocations.filter(live);
    const before = this.spikes.length;
    this.spikes = this.spikes.filter(live);
    if (this.spikes.length !== before) this.reweigh();
  }

  /** A spike changes the total rate: the wait for the next trade shrinks or grows in proportion. */
  private reweigh(): void {
    this.weights = this.baseWeights.map((w, i) => this.spikes.reduce((acc, s) => (s.streams.has(i) ? acc * s.value : acc), w));
    const base = this.baseWeights.reduce((a, b) => a + b, 0);
    const now = this.weights.reduce((a, b) => a + b, 0);
    const rate = (this.rate * now) / base;
    this.nextTradeAt = this.time + ((this.nextTradeAt - this.time) * this.totalRate) / rate;
    this.segmentStart = this.nextTradeAt;
    this.segmentIndex = 0;
    this.totalRate = rate;
  }

  private matching(symbol: string, exchange: Exchange | undefined): Set<number> {
    const set = new Set<number>();
    this.state.forEach((s, i) => {
      if (s.symbol === symbol && (exchange === undefined || s.exchange === exchange)) set.add(i);
    });
    return set;
  }

  private streamIndex(exchange: Exchange, symbol: string): number {
    const i = this.state.findIndex((s) => s.exchange === exchange && s.symbol === symbol);
    if (i < 0) throw new Error(`no stream ${exchange} ${symbol}`); // the scenario schema rules this out
    return i;
  }

  private pickStream(): number {
    const total = this.weights.reduce((a, b) => a + b, 0);
    let x = this.prng.next() * total;
    for (let i = 0; i < this.weights.length; i += 1) {
      x -= this.weights[i] ?? 0;
      if (x < 0) return i;
    }
    return this.weights.length - 1;
  }

  /** Advances the symbol's mid (a geometric random walk in virtual time) and prices a trade on it. */
  private priceTicks(stream: number, side: TakerSide): number {
    const s = this.state[stream] as StreamState;
    const k = s.symbolIndex;
    const dt = this.time - (this.midUpdatedAt[k] ?? 0);
    const z = this.prng.normal();
    if (dt > 0) {
      this.mids[k] = (this.mids[k] ?? s.market.startPrice) * Math.exp(s.market.volatility * Math.sqrt(dt) * z);
      this.midUpdatedAt[k] = this.time;
    }
    const dislocation = this.dislocations.reduce((acc, w) => (w.streams.has(stream) ? acc + w.value : acc), 0);
    const spread = (side === 'buy' ? 1 : -1) * this.scenario.halfSpreadPct;
    const price = (this.mids[k] ?? s.market.startPrice) * (1 + (s.offsetPct + dislocation + spread) / 100);
    return Math.max(1, Math.round(price * 10 ** s.market.priceDecimals));
  }

  private ordinaryTrade(stream: number): MarketTrade {
    const s = this.state[stream] as StreamState;
    const side: TakerSide = this.prng.next() < this.scenario.buyRatio ? 'buy' : 'sell';
    const ticks = this.priceTicks(stream, side);
    const price = ticks / 10 ** s.market.priceDecimals;
    const sigma = this.scenario.sizeSkew;
    const cap = this.scenario.maxNotional ?? Infinity;
    // Log-normal notional with the scenario's mean; redrawn when above the cap (a few tries, then capped).
    const draw = (): number => s.market.meanNotional * Math.exp(sigma * this.prng.normal() - (sigma * sigma) / 2);
    let notional = draw();
    for (let tries = 1; tries < 8 && notional > cap; tries += 1) notional = draw();
    const step = 10 ** s.market.sizeDecimals;
    const maxUnits = Number.isFinite(cap) ? Math.max(1, Math.floor((cap / price) * step)) : Infinity;
    const units = Math.min(maxUnits, Math.max(1, Math.round((Math.min(notional, cap) / price) * step)));
    return this.trade(stream, side, { units: ticks, decimals: s.market.priceDecimals }, { units, decimals: s.market.sizeDecimals });
  }

  /** One trade with price × size ≥ quoteVolume, by at most one size step (1e-8): exact, in integers. */
  private whaleTrade(stream: number, side: TakerSide, quoteVolume: number): MarketTrade {
    const s = this.state[stream] as StreamState;
    const ticks = this.priceTicks(stream, side);
    // quoteVolume is within [1, 1e12], so String() gives plain decimal digits, never an exponent.
    const [int = '0', frac = ''] = String(quoteVolume).split('.');
    const q = BigInt(int + frac);
    const numerator = q * 10n ** BigInt(s.market.priceDecimals + WHALE_SIZE_DECIMALS);
    const denominator = 10n ** BigInt(frac.length) * BigInt(ticks);
    const units = Number((numerator + denominator - 1n) / denominator);
    return this.trade(stream, side, { units: ticks, decimals: s.market.priceDecimals }, { units, decimals: WHALE_SIZE_DECIMALS });
  }

  private trade(stream: number, takerSide: TakerSide, price: Scaled, size: Scaled): MarketTrade {
    const s = this.state[stream] as StreamState;
    const trade: MarketTrade = { exchange: s.exchange, symbol: s.symbol, tradeId: s.nextId, price, size, takerSide };
    s.nextId += 1;
    if (s.exchange === 'coinbase') {
      s.sequence += 1 + this.prng.int(MAX_SEQUENCE_STEP);
      trade.venue = { sequence: s.sequence, makerOrderId: this.prng.uuid(), takerOrderId: this.prng.uuid() };
    }
    return trade;
  }
}
