import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { CoattailError } from '../core/errors.js';
import { silentLogger, type LogFields, type Logger } from '../core/logger.js';
import { isoFromMicros } from '../core/time.js';
import type { Exchange } from '../trade.js';
import { createMicroClock } from './clock.js';
import { BinanceFeed } from './feeds/binance-feed.js';
import { CoinbaseFeed } from './feeds/coinbase-feed.js';
import type { DeliveryCounters, PeerContext } from './feeds/peer.js';
import { closeServer, httpUrl, listenForUpgrades, refuseUpgrade, wsUrl } from './listen.js';
import { canonicalText } from './market/amounts.js';
import { Market, type MarketTrade, type TimelineItem } from './market/generator.js';
import { createPrng, deriveSeed } from './prng.js';
import { parseBinanceRoute } from './protocols/binance.js';
import { openRecorder } from './recorder.js';
import { PrintHistory } from './rest/history.js';
import { answerRest, restRoutes } from './rest/index.js';
import type { Scenario, ScenarioEvent } from './scenario.js';
import type { Print, PrintedTrade } from './types.js';

export interface SimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  scenario: Scenario;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Overrides the scenario's rate (trades per second). */
  rate?: number;
  /** NDJSON of every printed trade (the initial ones first). */
  recordFile?: string;
  logger?: Logger;
}

export interface SimulatorEvent {
  event: ScenarioEvent;
  /** Position of the event in the scenario's `events`. */
  index: number;
  /** Virtual seconds since generation started. */
  seconds: number;
}

export interface SimulatorStats {
  scenario: string;
  seed: number;
  rate: number;
  generating: boolean;
  finished: boolean;
  virtualSeconds: number;
  /** Trades printed since generation started (the initial trades and the history excluded). */
  printed: number;
  /** History trades printed so far, of how many (0 of 0 without a history). */
  history: { printed: number; total: number };
  /** Every trade printed, per exchange (the history included, the initial trades not). */
  printedBy: Record<Exchange, number>;
  eventsFired: number;
  connections: Record<Exchange, number>;
  connectionsAccepted: Record<Exchange, number>;
  framesSent: Record<Exchange, number>;
  malformedSent: number;
  slowClientsDropped: number;
  pongTimeouts: number;
  socketErrors: number;
}

export interface SimulatorHandle {
  port: number;
  host: string;
  /** ws://host:port — the ingest adapter appends /stream?streams=... */
  binanceUrl: string;
  /** ws://host:port/coinbase */
  coinbaseUrl: string;
  /** http://host:port — Binance's REST endpoints (`/api/v3/historicalTrades`) from the simulator's history. */
  binanceRestUrl: string;
  /** http://host:port/coinbase — Coinbase's REST endpoints (`/products/{id}/trades`). */
  coinbaseRestUrl: string;
  seed: number;
  rate: number;
  /** One trade per (exchange, symbol) printed before the session: what Coinbase's last_match reports first. */
  initialTrades: readonly PrintedTrade[];
  onTrade(cb: (t: PrintedTrade) => void): void;
  onEvent(cb: (e: SimulatorEvent) => void): void;
  stats(): SimulatorStats;
  /** Resolves when generation starts (at once, or when the clients are there with waitForClients). */
  started: Promise<void>;
  /** Resolves with the session's open, epoch ms: when generation starts, or where the history's times end. */
  opened: Promise<number>;
  /** Resolves when a bounded scenario (totalTrades or durationSeconds) has printed everything. */
  done: Promise<void>;
  close(): Promise<void>;
}

const zeroByExchange = (): Record<Exchange, number> => ({ binance: 0, coinbase: 0 });

function checkOptions(opts: SimulatorOptions): { seed: number; rate: number; port: number } {
  const seed = opts.seed ?? opts.scenario.seed;
  const rate = opts.rate ?? opts.scenario.rate;
  const port = opts.port ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new CoattailError('invalid simulator seed', `${seed} is not an integer in 0..4294967295`, 'Pass a whole number');
  if (!Number.isFinite(rate) || rate <= 0 || rate > 1_000_000)
    throw new CoattailError('invalid simulator rate', `${rate} is not in (0, 1000000] trades per second`, 'Pass a positive rate');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CoattailError('invalid simulator port', `${port} is not in 0..65535`, 'Pass a port number (0 picks a free one)');
  return { seed, rate, port };
}

function toPrint(source: MarketTrade, timeUs: number): Print {
  const trade: PrintedTrade = {
    exchange: source.exchange,
    symbol: source.symbol,
    tradeId: source.tradeId,
    price: canonicalText(source.price),
    size: canonicalText(source.size),
    takerSide: source.takerSide,
    timeMs: Math.floor(timeUs / 1000),
    timeIso: isoFromMicros(timeUs),
  };
  return { trade, timeUs, source };
}

/** A local market on one port that speaks Binance's stream protocol and Coinbase's Exchange feed. */
export async function startSimulator(opts: SimulatorOptions): Promise<SimulatorHandle> {
  const { scenario } = opts;
  const { seed, rate, port: wantedPort } = checkOptions(opts);
  const host = opts.host ?? '127.0.0.1';
  const logger = opts.logger ?? silentLogger;
  const symbols = scenario.symbols.map((s) => s.symbol);
  const market = new Market(scenario, seed, rate);
  const clock = createMicroClock();
  // Delivery randomness (malformed frames) has its own stream: it must not shift the market's.
  const deliveryPrng = createPrng(deriveSeed(seed, 1));

  const counters: DeliveryCounters = {
    framesSent: zeroByExchange(),
    malformedSent: 0,
    slowClientsDropped: 0,
    pongTimeouts: 0,
    socketErrors: 0,
  };
  const silentUntil = zeroByExchange();
  /** After a disconnect with downSeconds: new connections to that exchange are refused until then. */
  const downUntil = zeroByExchange();
  const isDown = (ex: Exchange): boolean => downUntil[ex] > Date.now();
  const peerCtx: PeerContext = {
    logger,
    counters,
    maxBufferedBytes: scenario.maxBufferedBytes,
    isSilent: (ex) => silentUntil[ex] > Date.now(),
  };

  // The initial trades happened "before the session": stamped a second before now, or before the history.
  const pastTrades = market.history;
  const historyUs = Math.round((scenario.history?.seconds ?? 0) * 1_000_000);
  const before = clock() - 1_000_000 - historyUs;
  const initial = market.initialTrades.map((t, i) => toPrint(t, before + i));
  const recorder = opts.recordFile ? await openRecorder(opts.recordFile, logger) : undefined;
  for (const p of initial) recorder?.write(p.trade);
  // What the REST endpoints answer from: every print, the initial ones first (bounded per symbol).
  const history = new PrintHistory();
  for (const p of initial) history.add(p);

  const tradeListeners: Array<(t: PrintedTrade) => void> = [];
  const eventListeners: Array<(e: SimulatorEvent) => void> = [];
  const printedBy = zeroByExchange();
  const accepted = zeroByExchange();
  let eventsFired = 0;
  let generating = false;
  let finished = false;
  let generationStart = 0;
  let historyPrinted = 0;
  let ticker: NodeJS.Timeout | undefined;
  let resolveStarted: () => void = () => undefined;
  let resolveOpened: (atMs: number) => void = () => undefined;
  let resolveDone: () => void = () => undefined;
  const started = new Promise<void>((r) => (resolveStarted = r));
  const opened = new Promise<number>((r) => (resolveOpened = r));
  const done = new Promise<void>((r) => (resolveDone = r));

  const has = (ex: Exchange): boolean => scenario.exchanges.includes(ex);
  const checkReady = (): void => {
    if (generating) return;
    const ready = (!has('binance') || binance.covers(symbols)) && (!has('coinbase') || coinbase.covers(symbols));
    if (ready) startGeneration('every exchange has subscribed clients');
  };
  const binance = new BinanceFeed(peerCtx, scenario.binance, symbols, deliveryPrng, clock, checkReady);
  const coinbase = new CoinbaseFeed(
    peerCtx,
    scenario.coinbase,
    initial.filter((p) => p.trade.exchange === 'coinbase'),
    deliveryPrng,
    clock,
    checkReady,
  );
  const feeds = { binance, coinbase };

  /** Every trade goes out here, the history's too (with its past time). */
  function printTrade(source: MarketTrade, timeUs: number = clock()): void {
    const print = toPrint(source, timeUs);
    printedBy[source.exchange] += 1;
    recorder?.write(print.trade);
    history.add(print);
    // Listeners first: the ground truth knows a trade before any client can.
    for (const cb of tradeListeners) cb(print.trade);
    feeds[source.exchange].broadcast(print);
  }

  function fireEvent(item: Extract<TimelineItem, { kind: 'event' }>): void {
    const { event } = item;
    eventsFired += 1;
    const { type, ...details } = event;
    logger.info(`scenario event: ${type}`, { ...(details as LogFields), seconds: Number(item.seconds.toFixed(3)) });
    for (const cb of eventListeners) cb({ event, index: item.index, seconds: item.seconds });
    const targets = (ex: Exchange | undefined): Exchange[] => (ex === undefined ? scenario.exchanges : [ex]);
    switch (event.type) {
      case 'disconnect':
        for (const ex of targets(event.exchange)) {
          if (event.downSeconds !== undefined) downUntil[ex] = Math.max(downUntil[ex], Date.now() + event.downSeconds * 1000);
          feeds[ex].disconnect();
        }
        break;
      case 'server_shutdown':
        binance.serverShutdown(event.graceMs);
        break;
      case 'silence':
        for (const ex of targets(event.exchange)) silentUntil[ex] = Math.max(silentUntil[ex], Date.now() + event.durationSeconds * 1000);
        break;
      case 'malformed':
        feeds[event.exchange].malformed(event.count);
        break;
      default:
        // whale, volume_spike and dislocation shape the market itself (the generator applies them).
        break;
    }
  }

  function tick(): void {
    const items = market.advanceTo((performance.now() - generationStart) / 1000);
    for (const item of items) {
      if (item.kind === 'trade') printTrade(item.trade);
      else fireEvent(item);
    }
    if (market.finished && !finished) {
      finished = true;
      clearInterval(ticker);
      logger.info('scenario finished', { printed: market.printed, seconds: Number(market.seconds.toFixed(3)) });
      resolveDone();
    }
  }

  /** `atMs`: the session's second 0 on the wall clock (with a history, where its times end). */
  function openSession(atMs: number): void {
    generationStart = performance.now();
    ticker = setInterval(tick, scenario.tickMs);
    resolveOpened(atMs);
  }

  /**
   * The history at its print rate, stamped so that it ends where the session opens: trade k prints
   * k / printRate after the start and carries the time open + its (negative) second. As the print rate
   * is at least the flow's, no trade is printed before its own time. The session opens once the wall
   * clock reaches the open, so its first trade is later than the history's last.
   */
  function playHistory(): void {
    const printRate = Math.max(scenario.history?.rate ?? rate, rate);
    const playStart = performance.now();
    const openUs = clock() + Math.ceil((pastTrades.length / printRate) * 1_000_000);
    logger.info("printing the market's history", {
      trades: pastTrades.length,
      seconds: scenario.history?.seconds,
      from: isoFromMicros(openUs - historyUs),
      open: isoFromMicros(openUs),
    });
    ticker = setInterval(() => {
      const due = Math.min(pastTrades.length, Math.floor(((performance.now() - playStart) / 1000) * printRate) + 1);
      for (; historyPrinted < due; historyPrinted += 1) {
        const h = pastTrades[historyPrinted] as (typeof pastTrades)[number];
        printTrade(h.trade, openUs + Math.round(h.seconds * 1_000_000));
      }
      if (historyPrinted < pastTrades.length || Date.now() * 1000 < openUs) return;
      clearInterval(ticker);
      logger.info('history printed: the session opens', { trades: historyPrinted });
      openSession(openUs / 1000);
    }, scenario.tickMs);
  }

  function startGeneration(why: string): void {
    generating = true;
    // Only newsworthy when it waited for clients; otherwise it opens with the server.
    (scenario.waitForClients ? logger.info : logger.debug)('market open: printing trades', { why, rate, seed });
    resolveStarted();
    if (pastTrades.length > 0) playHistory();
    else openSession(Date.now());
  }

  const wss = new WebSocketServer({ noServer: true });
  const server = await listenForUpgrades(host, wantedPort, (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (url.pathname === '/coinbase' || url.pathname === '/coinbase/' || url.pathname === '/') {
      if (!has('coinbase')) return refuseUpgrade(socket, 404, 'this scenario has no coinbase market');
      if (isDown('coinbase')) return refuseUpgrade(socket, 503, 'coinbase is down (scenario disconnect)');
      wss.handleUpgrade(req, socket, head, (ws) => {
        accepted.coinbase += 1;
        coinbase.accept(ws);
      });
      return;
    }
    const route = parseBinanceRoute(url);
    if (route === undefined)
      return refuseUpgrade(socket, 404, `no endpoint at ${url.pathname}: use /stream?streams=..., /ws/<stream> or /coinbase`);
    if ('error' in route) return refuseUpgrade(socket, route.status, route.error);
    if (!has('binance')) return refuseUpgrade(socket, 404, 'this scenario has no binance market');
    if (isDown('binance')) return refuseUpgrade(socket, 503, 'binance is down (scenario disconnect)');
    wss.handleUpgrade(req, socket, head, (ws) => {
      accepted.binance += 1;
      binance.accept(ws, route);
    });
  });
  // Plain HTTP requests are the REST side (src/simulator/rest/): trade history, answered from `history`.
  const routes = restRoutes({ history, symbols, markets: scenario.symbols, binance: has('binance'), coinbase: has('coinbase') });
  server.on('request', (req, res) => answerRest(routes, req, res));
  const port = (server.address() as AddressInfo).port;

  if (!scenario.waitForClients) startGeneration('scenario does not wait for clients');
  else logger.info('waiting for clients before printing trades', { exchanges: scenario.exchanges.join(','), symbols: symbols.join(',') });

  let closing: Promise<void> | undefined;
  return {
    port,
    host,
    binanceUrl: wsUrl(host, port),
    coinbaseUrl: wsUrl(host, port, '/coinbase'),
    binanceRestUrl: httpUrl(host, port),
    coinbaseRestUrl: httpUrl(host, port, '/coinbase'),
    seed,
    rate,
    initialTrades: initial.map((p) => p.trade),
    onTrade: (cb) => void tradeListeners.push(cb),
    onEvent: (cb) => void eventListeners.push(cb),
    stats: () => ({
      scenario: scenario.name ?? 'unnamed',
      seed,
      rate,
      generating: generating && !finished,
      finished,
      virtualSeconds: market.seconds,
      printed: market.printed,
      history: { printed: historyPrinted, total: pastTrades.length },
      printedBy: { ...printedBy },
      eventsFired,
      connections: { binance: binance.connections, coinbase: coinbase.connections },
      connectionsAccepted: { ...accepted },
      framesSent: { ...counters.framesSent },
      malformedSent: counters.malformedSent,
      slowClientsDropped: counters.slowClientsDropped,
      pongTimeouts: counters.pongTimeouts,
      socketErrors: counters.socketErrors,
    }),
    started,
    opened,
    done,
    close: () =>
      (closing ??= (async () => {
        clearInterval(ticker);
        binance.closeAll();
        coinbase.closeAll();
        wss.close();
        await closeServer(server);
        await recorder?.close();
      })()),
  };
}
