import { z } from 'zod';
import { EXCHANGES } from '../trade.js';
import { binanceSymbol } from './protocols/binance.js';

/**
 * A scenario file: the market (symbols, rate, price walk, sizes), the protocol timings, and the
 * scripted events. Every field except `rate` and `symbols` has a default, so a scenario can be small.
 */

const exchange = z.enum(EXCHANGES);
const side = z.enum(['buy', 'sell']);
const seconds = z.number().nonnegative().finite();
const positiveSeconds = z.number().positive().finite();
const millis = z.number().int().positive();

// The simulator is the exchange: its scenario's symbols are what it lists (src/simulator/rest/metadata.ts).
const unifiedSymbol = z
  .string()
  .regex(/^[A-Z0-9]+-[A-Z0-9]+$/, { message: 'expected a BASE-QUOTE symbol in upper case, such as BTC-USDT' });

export const SymbolMarketSchema = z.strictObject({
  symbol: unifiedSymbol,
  /** Mid price at the start, in quote currency. */
  startPrice: z.number().positive().finite(),
  /** Standard deviation of the mid's relative change over one second (0.0002 = 2 bp per √s). */
  volatility: z.number().nonnegative().max(0.1).default(0.0002),
  /** Mean quote volume (price × size) of an ordinary trade. */
  meanNotional: z.number().positive().finite().default(1000),
  /** Price tick as a number of decimals (2 → 0.01). */
  priceDecimals: z.number().int().min(0).max(8).default(2),
  /** Size step as a number of decimals (5 → 0.00001). */
  sizeDecimals: z.number().int().min(0).max(8).default(5),
  /** Share of the trade flow relative to the other symbols. */
  weight: z.number().positive().finite().default(1),
});

const BinanceTimingSchema = z.strictObject({
  pingIntervalMs: millis.default(20_000),
  pongTimeoutMs: millis.default(60_000),
  maxConnectionAgeMs: millis.default(24 * 60 * 60 * 1000),
});

const CoinbaseTimingSchema = z.strictObject({
  subscribeTimeoutMs: millis.default(5_000),
  heartbeatIntervalMs: millis.default(1_000),
  pingIntervalMs: millis.default(30_000),
  pongTimeoutMs: millis.default(90_000),
});

/** When an event fires: `at` seconds after generation starts, or `atTrade` = after N printed trades. */
const when = { at: seconds.optional(), atTrade: z.number().int().nonnegative().optional() };

/**
 * Scripted events. whale: one trade of at least quoteVolume (within 0.01 %). volume_spike: the
 * symbol's flow × multiplier. dislocation: one exchange's prices offset by pct. disconnect: sockets
 * cut (with downSeconds, new connections are refused with 503 for that long). server_shutdown: Binance's notice, then closes after graceMs. silence: nothing sent at all
 * (trades still print and are missed). malformed: garbage frames to the exchange's clients.
 */
export const ScenarioEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('whale'), ...when, exchange, symbol: unifiedSymbol, side, quoteVolume: z.number().min(1).max(1e12) }),
  z.strictObject({
    type: z.literal('volume_spike'),
    ...when,
    symbol: unifiedSymbol,
    exchange: exchange.optional(),
    multiplier: z.number().positive().max(1000),
    durationSeconds: positiveSeconds,
  }),
  z.strictObject({
    type: z.literal('dislocation'),
    ...when,
    symbol: unifiedSymbol,
    exchange,
    pct: z.number().gt(-50).lt(50),
    durationSeconds: positiveSeconds,
  }),
  z.strictObject({
    type: z.literal('disconnect'),
    ...when,
    exchange: exchange.optional(),
    downSeconds: z.number().nonnegative().max(3600).optional(),
  }),
  z.strictObject({ type: z.literal('server_shutdown'), ...when, graceMs: z.number().int().nonnegative().default(1_000) }),
  z.strictObject({ type: z.literal('silence'), ...when, exchange: exchange.optional(), durationSeconds: positiveSeconds }),
  z.strictObject({ type: z.literal('malformed'), ...when, exchange, count: z.number().int().positive().max(10_000) }),
]);

/**
 * The market before the session, printed first and fast: `seconds` of the same flow (no scripted events)
 * with times in the past, ending where the session begins, so windowed jobs have a baseline at the open.
 */
export const HistorySchema = z.strictObject({
  /** Seconds of market before the session (at the scenario's rate). */
  seconds: z.number().positive().max(86_400),
  /** How fast it is printed, in trades per second of wall time: at least the scenario's rate. */
  rate: z.number().positive().max(1_000_000),
});

export const ScenarioSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    description: z.string().default(''),
    seed: z.number().int().min(0).max(0xffffffff).default(1),
    /** Trades per second over all (exchange, symbol) streams. */
    rate: z.number().positive().max(1_000_000),
    /** How often the printer catches up with the clock; does not change the sequence of trades. */
    tickMs: z.number().int().min(1).max(1_000).default(20),
    /** Print nothing until every exchange has subscribed clients for all its symbols. */
    waitForClients: z.boolean().default(false),
    totalTrades: z.number().int().positive().optional(),
    durationSeconds: positiveSeconds.optional(),
    exchanges: z
      .array(exchange)
      .min(1)
      .default([...EXCHANGES]),
    symbols: z.array(SymbolMarketSchema).min(1),
    /** Each (exchange, symbol) prints at a fixed offset from the mid, drawn within ± half of this. */
    exchangeOffsetPct: z.number().nonnegative().max(5).default(0.01),
    /** Buys print this far above the mid, sells below (the half spread). */
    halfSpreadPct: z.number().nonnegative().max(5).default(0.005),
    /** σ of the log-normal notional of ordinary trades: larger = more skewed. */
    sizeSkew: z.number().positive().max(5).default(1),
    buyRatio: z.number().min(0).max(1).default(0.5),
    /** Ordinary trades stay below this notional, so only scripted whales cross alert thresholds. */
    maxNotional: z.number().positive().finite().optional(),
    /** A client whose unsent data grows past this is cut off, as the exchanges drop slow readers. */
    maxBufferedBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
    binance: BinanceTimingSchema.prefault({}),
    coinbase: CoinbaseTimingSchema.prefault({}),
    history: HistorySchema.optional(),
    events: z.array(ScenarioEventSchema).default([]),
  })
  .superRefine((s, ctx) => {
    const symbols = new Set<string>();
    const binanceNames = new Map<string, string>();
    s.symbols.forEach((m, i) => {
      if (symbols.has(m.symbol)) ctx.addIssue({ code: 'custom', path: ['symbols', i, 'symbol'], message: `${m.symbol} is listed twice` });
      symbols.add(m.symbol);
      // Binance writes a symbol without its dash: AR-BUSD and ARB-USD would both be ARBUSD there.
      const other = binanceNames.get(binanceSymbol(m.symbol));
      if (other !== undefined && other !== m.symbol)
        ctx.addIssue({
          code: 'custom',
          path: ['symbols', i, 'symbol'],
          message: `${m.symbol} and ${other} are both ${binanceSymbol(m.symbol)} on Binance`,
        });
      binanceNames.set(binanceSymbol(m.symbol), m.symbol);
    });
    if (new Set(s.exchanges).size !== s.exchanges.length)
      ctx.addIssue({ code: 'custom', path: ['exchanges'], message: 'an exchange is listed twice' });
    if (s.history && !s.waitForClients) {
      ctx.addIssue({ code: 'custom', path: ['history'], message: 'needs "waitForClients": true, or it is printed before anyone listens' });
    }
    if (s.history && s.history.rate < s.rate) {
      ctx.addIssue({
        code: 'custom',
        path: ['history', 'rate'],
        message: `${s.history.rate} is below the scenario's rate (${s.rate}): history would print later than its trade times`,
      });
    }
    s.events.forEach((e, i) => {
      if ((e.at === undefined) === (e.atTrade === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['events', i], message: 'give exactly one of "at" (seconds) or "atTrade" (trade count)' });
      }
      if ('symbol' in e && !symbols.has(e.symbol)) {
        ctx.addIssue({ code: 'custom', path: ['events', i, 'symbol'], message: `${e.symbol} is not one of the scenario's symbols` });
      }
      if ('exchange' in e && e.exchange !== undefined && !s.exchanges.includes(e.exchange)) {
        ctx.addIssue({ code: 'custom', path: ['events', i, 'exchange'], message: `${e.exchange} is not one of the scenario's exchanges` });
      }
      if (e.type === 'server_shutdown' && !s.exchanges.includes('binance')) {
        ctx.addIssue({
          code: 'custom',
          path: ['events', i, 'type'],
          message: 'server_shutdown is a Binance event and the scenario has no binance',
        });
      }
    });
  });

export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type ScenarioEvent = z.output<typeof ScenarioEventSchema>;
export type SymbolMarket = z.output<typeof SymbolMarketSchema>;
export type History = z.output<typeof HistorySchema>;

/** Human path of a zod issue: `events[2].quoteVolume`. */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(top level)';
}
