/**
 * A recording of simulated unified trades, NDJSON, the lines `coattail ingest --sink stdout` prints: the
 * replay benchmark's input. `node dist/bench/run.js trades --count N --out FILE [--rate R] [--seed S]
 * [--scenario NAME]`.
 *
 * The market is the simulator's (a scenario's `Market`), on a virtual clock that starts at a fixed epoch
 * instead of the wall clock, so a run is deterministic and takes seconds for hours of event time. Each
 * trade goes the way it goes live: the simulator's frame encoders build the exchange's frame (Binance
 * combined-stream `trade` in milliseconds, as ingest subscribes; Coinbase `match`, and one `last_match`
 * per product first, as Coinbase sends on subscribing), the exchange's mapper turns it into the unified
 * trade, and `serializeTrade` prints it. Only the sockets and the engine's dedupe are left out: this
 * stream has no reconnects or overlaps for them to act on.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CoattailError, usageError } from '../src/core/errors.js';
import { isoFromMicros } from '../src/core/time.js';
import { createBinanceMapper } from '../src/exchanges/binance/mapper.js';
import { mapCoinbase } from '../src/exchanges/coinbase/mapper.js';
import type { Mapper } from '../src/exchanges/types.js';
import { canonicalText } from '../src/simulator/market/amounts.js';
import { Market, type MarketTrade } from '../src/simulator/market/generator.js';
import { createPrng, deriveSeed } from '../src/simulator/prng.js';
import { binanceSymbol, tradeEvent, tradeStreamName, wrap } from '../src/simulator/protocols/binance.js';
import { lastMatchMessage, matchMessage } from '../src/simulator/protocols/coinbase.js';
import { loadScenario } from '../src/simulator/scenario-loader.js';
import type { Scenario } from '../src/simulator/scenario.js';
import type { Print } from '../src/simulator/types.js';
import { serializeTrade } from '../src/trade.js';

/** 2024-05-01T00:00:00Z: the virtual clock's start. */
export const RECORDING_EPOCH_MS = Date.UTC(2024, 4, 1);
/** Trades per second of virtual time: 1,000,000 trades span about 2.8 hours of one-minute windows. */
export const RECORDING_RATE = 100;
/** The ingester receives a trade this many milliseconds after it printed, at least (plus 0–3 ms). */
const MIN_LATENCY_MS = 2;
const LATENCY_SPREAD_MS = 4;
/** Virtual time advances in steps of this many microseconds; trades in a step print at its end. */
const STEP_US = 1_000;
/** Lines per write: few system calls, little memory. */
const CHUNK_LINES = 10_000;

export interface RecordingOptions {
  /** Trades (lines) to produce. */
  count: number;
  /** The market; defaults to the built-in `default` scenario. */
  scenario?: Scenario;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Trades per second of virtual time; defaults to RECORDING_RATE, not the scenario's live rate. */
  rate?: number;
  /** Epoch milliseconds where the virtual clock starts. */
  startMs?: number;
}

/** The simulator's print record of a trade at a time (the same fields its server hands the encoders). */
function toPrint(source: MarketTrade, timeUs: number): Print {
  return {
    trade: {
      exchange: source.exchange,
      symbol: source.symbol,
      tradeId: source.tradeId,
      price: canonicalText(source.price),
      size: canonicalText(source.size),
      takerSide: source.takerSide,
      timeMs: Math.floor(timeUs / 1000),
      timeIso: isoFromMicros(timeUs),
    },
    timeUs,
    source,
  };
}

/** The scenario without its history: a recording is the session from its epoch on. */
export function sessionOnly(scenario: Scenario): Scenario {
  const { history: _history, ...session } = scenario;
  return session;
}

/** The unified-trade lines, in the order an ingester receives them, `count` of them. */
export function* recordingLines(opts: RecordingOptions): Generator<string, void, undefined> {
  const scenario = sessionOnly(opts.scenario ?? loadScenario('default'));
  const seed = opts.seed ?? scenario.seed;
  const market = new Market(scenario, seed, opts.rate ?? RECORDING_RATE);
  // Latency has its own random stream, so it cannot shift the market's.
  const latency = createPrng(deriveSeed(seed, 2));
  const binance = createBinanceMapper('ms', new Map(scenario.symbols.map((m) => [binanceSymbol(m.symbol), m.symbol])));
  const startUs = (opts.startMs ?? RECORDING_EPOCH_MS) * 1000;
  let lastPrintUs = 0;
  // Nothing arrives before the session starts: the last_match replies come when the subscription does.
  let lastReceivedMs = Math.floor(startUs / 1000);
  let emitted = 0;

  // One exchange clock and one reading socket loop, as live: print times strictly increase, and arrival
  // (ingested_at) never goes back, since lines leave ingest in the order they arrive.
  const line = (frame: string, print: Print, map: Mapper): string => {
    const receivedMs = Math.max(lastReceivedMs, print.trade.timeMs + MIN_LATENCY_MS + latency.int(LATENCY_SPREAD_MS));
    lastReceivedMs = receivedMs;
    const event = map(frame, receivedMs);
    if (event.kind !== 'trade') {
      throw new Error(`the ${print.trade.exchange} mapper did not read a simulator frame as a trade (${event.kind}): ${frame}`);
    }
    emitted += 1;
    return serializeTrade(event.trade);
  };

  // Coinbase answers a subscription with each product's last trade, printed before the session.
  const beforeUs = startUs - 1_000_000;
  for (const [i, trade] of market.initialTrades.entries()) {
    if (emitted >= opts.count) return;
    if (trade.exchange !== 'coinbase') continue;
    const print = toPrint(trade, beforeUs + i);
    lastPrintUs = print.timeUs;
    yield line(JSON.stringify(lastMatchMessage(print)), print, mapCoinbase);
  }

  for (let stepUs = STEP_US; emitted < opts.count && !market.finished; stepUs += STEP_US) {
    const nowUs = startUs + stepUs;
    for (const item of market.advanceTo(stepUs / 1_000_000)) {
      if (item.kind !== 'trade') continue; // scenario events shape the market; they print no frame
      const print = toPrint(item.trade, (lastPrintUs = Math.max(lastPrintUs + 1, nowUs)));
      const { symbol } = print.trade;
      yield print.trade.exchange === 'binance'
        ? line(wrap(tradeStreamName(symbol), tradeEvent(print, 'ms'), true), print, binance)
        : line(JSON.stringify(matchMessage(print)), print, mapCoinbase);
      if (emitted >= opts.count) return;
    }
  }
}

export interface RecordingResult {
  file: string;
  trades: number;
  seconds: number;
  trades_per_s: number;
  first_trade: string;
  last_trade: string;
}

const timestampOf = (line: string): string => /"timestamp":"([^"]+)"/.exec(line)?.[1] ?? '';

/** Writes the recording to `file` (folders created, file replaced). */
export function writeRecording(file: string, opts: RecordingOptions): RecordingResult {
  const started = process.hrtime.bigint();
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const fd = openSync(file, 'w');
  let trades = 0;
  let first = '';
  let last = '';
  try {
    let chunk: string[] = [];
    for (const l of recordingLines(opts)) {
      if (trades === 0) first = l;
      last = l;
      trades += 1;
      chunk.push(l);
      if (chunk.length === CHUNK_LINES) {
        writeSync(fd, `${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) writeSync(fd, `${chunk.join('\n')}\n`);
  } finally {
    closeSync(fd);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (trades < opts.count) {
    throw new CoattailError(
      `the scenario ended after ${trades} trades`,
      `${opts.count} were asked for and it has totalTrades or durationSeconds`,
      'use a scenario that runs until stopped, such as default',
    );
  }
  return {
    file,
    trades,
    seconds: Math.round(seconds * 100) / 100,
    trades_per_s: Math.round(trades / seconds),
    first_trade: timestampOf(first),
    last_trade: timestampOf(last),
  };
}

/** A whole number of at least `min` from an option's text (`1_000_000` allowed). */
function wholeNumber(name: string, text: string, min: number): number {
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min) {
    throw usageError(
      `--${name} ${text} is not a whole number of at least ${min}`,
      `--${name} counts trades, sets the seed or the virtual rate`,
      `pass e.g. --${name} ${Math.max(min, 100)}`,
    );
  }
  return n;
}

/** `trades --count N --out FILE [--rate R] [--seed S] [--scenario NAME]` from the arguments after `trades`. */
export function recordingFromArgs(argv: string[]): { file: string; options: RecordingOptions } {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        count: { type: 'string' },
        out: { type: 'string' },
        rate: { type: 'string' },
        seed: { type: 'string' },
        scenario: { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    throw usageError(
      'bad arguments for trades',
      err instanceof Error ? err.message : String(err),
      'run: node dist/bench/run.js trades --count 1000000 --out .coattail/bench/trades.jsonl',
    );
  }
  if (!values.out) throw usageError('--out is missing', 'the recording is written to a file', 'pass --out FILE');
  if (!values.count) throw usageError('--count is missing', 'the recording needs a number of trades', 'pass --count N');
  const options: RecordingOptions = {
    count: wholeNumber('count', values.count, 1),
    rate: values.rate === undefined ? RECORDING_RATE : wholeNumber('rate', values.rate, 1),
    scenario: loadScenario(values.scenario ?? 'default'),
  };
  if (values.seed !== undefined) options.seed = wholeNumber('seed', values.seed, 0);
  return { file: values.out, options };
}

/** The `trades` entry of bench/run.ts: a one-line error for bad usage, as the CLI prints them. */
export function recordTradesCommand(argv: string[]): RecordingResult {
  try {
    const { file, options } = recordingFromArgs(argv);
    return writeRecording(file, options);
  } catch (err) {
    if (!(err instanceof CoattailError)) throw err;
    process.stderr.write(`${err.line()}\n`);
    process.exit(err.exitCode);
  }
}
