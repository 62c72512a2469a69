import WebSocket from 'ws';
import { DEFAULT_BACKOFF, fullJitterDelay, type BackoffPolicy } from '../core/backoff.js';
import { CoattailError, errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { systemClock, type Clock } from '../core/time.js';
import type { UnifiedTrade } from '../trade.js';
import { DEFAULT_BACKFILL_LIMITS, GapBackfill, type BackfillLimits } from './backfill.js';
import { TradeSequences, type TradeGap } from './sequences.js';
import type { FeedEvent, FeedSpec } from './types.js';
import { displayName } from './registry.js';

export interface FeedHooks {
  onTrade(trade: UnifiedTrade): void;
  onGap?(gap: TradeGap): void;
  /** The exchange refused us for good (a bad subscription, a refused upgrade): retrying cannot help. */
  onFatal?(err: CoattailError): void;
}

export interface EngineOptions {
  logger?: Logger;
  backoff?: BackoffPolicy;
  random?: () => number;
  clock?: Clock;
  /** How often the watchdog looks at the connections. */
  watchdogIntervalMs?: number;
  /** A replaced connection still open after this long is terminated. */
  closeGraceMs?: number;
  /** After a planned switch both connections deliver for this long, so nothing in flight is lost. */
  overlapMs?: number;
  /** A connection up this long has proven itself: the reconnect backoff starts over. */
  stableAfterMs?: number;
  /** A jump in trade ids is confirmed as a gap only if still missing after this long. */
  gapSettleMs?: number;
  /** Bounds of the REST backfill of confirmed gaps (when the feed has a `history`). */
  backfill?: Partial<BackfillLimits>;
}

export interface FeedStats {
  exchange: string;
  connects: number;
  reconnects: number;
  plannedReconnects: number;
  staleDisconnects: number;
  frames: number;
  trades: number;
  duplicates: number;
  rejected: number;
  ignored: number;
  exchangeErrors: number;
  gaps: number;
  missingTrades: number;
  /** Trades of confirmed gaps fetched over REST and emitted. */
  backfilled: number;
  /** Times a symbol's trade ids started over (each logged). */
  sequenceRestarts: number;
  connected: boolean;
}

interface Conn {
  id: number;
  ws: WebSocket;
  openedAt: number;
  lastActivity: number;
  /** Has delivered a protocol message: the subscription works. */
  live: boolean;
  retired: boolean;
}

/**
 * One exchange feed kept alive: connects, subscribes, answers pings (ws does it for us), reconnects
 * with full-jitter backoff, notices a silent connection, and on a planned disconnect (Binance's
 * `serverShutdown`, the 24 h cut) opens the new connection before closing the old one. Trades from
 * every connection pass one TradeSequences, so overlaps and a repeated `last_match` emit once.
 */
export class FeedConnection {
  private readonly logger: Logger;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly sequences: TradeSequences;
  private readonly backfill: GapBackfill | undefined;
  private active: Conn | undefined;
  private standby: Conn | undefined;
  /** Replaced connections still delivering during the overlap. */
  private readonly retiring = new Set<Conn>();
  private nextId = 1;
  private attempt = 0;
  /** The exchange asked us to wait (HTTP 429/418 Retry-After) until this time. */
  private notBefore = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = true;
  private paused = false;
  /** Some connection has delivered a protocol message: refusals after that are passing trouble. */
  private everLive = false;
  /** After a failed standby, the age trigger waits before trying again. */
  private standbyNotBefore = 0;
  private standbyAttempt = 0;
  private readonly counters = {
    connects: 0,
    reconnects: 0,
    plannedReconnects: 0,
    staleDisconnects: 0,
    frames: 0,
    trades: 0,
    duplicates: 0,
    rejected: 0,
    ignored: 0,
    exchangeErrors: 0,
  };

  constructor(
    private readonly spec: FeedSpec,
    private readonly hooks: FeedHooks,
    private readonly opts: EngineOptions = {},
  ) {
    this.logger = (opts.logger ?? silentLogger).child({ exchange: spec.exchange });
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.random = opts.random ?? Math.random;
    this.clock = opts.clock ?? systemClock;
    this.sequences = new TradeSequences(spec.exchange, {
      ...(opts.gapSettleMs !== undefined ? { settleMs: opts.gapSettleMs } : {}),
      onGap: (gap) => {
        const fields = { symbol: gap.symbol, from: gap.from, to: gap.to, missing: gap.count };
        if (this.backfill) this.logger.info('trade-id gap: fetching the missing trades over REST', fields);
        else this.logger.warn('trade-id gap: trades missed', fields);
        hooks.onGap?.(gap);
        this.backfill?.enqueue(gap);
      },
      onReset: ({ symbol, last, seq, why }) =>
        this.logger.warn(
          'trade ids went back: the exchange restarted its sequence; its trades are kept and counted from here, but their event_ids repeat earlier ones, and downstream a repeated event_id within the dedupe window (the watermark) is taken for the earlier trade',
          { symbol, last_id: last, new_id: seq, why },
        ),
    });
    const emit = (trade: UnifiedTrade): void => {
      this.counters.trades += 1;
      hooks.onTrade(trade);
    };
    this.backfill =
      spec.history && new GapBackfill(spec.history, this.sequences, emit, this.logger, { ...DEFAULT_BACKFILL_LIMITS, ...opts.backfill });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.active = this.open();
    const every = this.opts.watchdogIntervalMs ?? Math.max(50, Math.min(1_000, Math.floor(this.spec.staleAfterMs / 4)));
    this.watchdog = setInterval(() => this.checkHealth(), every);
  }

  /**
   * Stop reading from the sockets (TCP pushes back on the exchange) until resume(). A Binance
   * connection paused past a minute misses its pongs and is dropped: it comes back with a counted gap.
   */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    for (const c of this.conns()) c.ws.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const now = this.clock.now();
    for (const c of this.conns()) {
      c.lastActivity = now; // we were not reading: silence while paused is ours, not the exchange's
      c.ws.resume();
    }
  }

  isPaused(): boolean {
    return this.paused;
  }

  /**
   * Close every connection; no reconnect follows. Gaps still provisional are settled now, and the
   * confirmed ones still open are backfilled, for at most the backfill's stop deadline.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    clearInterval(this.watchdog);
    const conns = this.conns();
    this.active = undefined;
    this.standby = undefined;
    this.retiring.clear();
    await Promise.all(conns.map((c) => this.closeConn(c, 'stopping')));
    this.sequences.settle(this.clock.now(), true);
    await this.backfill?.finish();
  }

  stats(): FeedStats {
    const { gaps, missingTrades, backfilled, restarts } = this.sequences.totals();
    return {
      exchange: this.spec.exchange,
      ...this.counters,
      gaps,
      missingTrades,
      backfilled,
      sequenceRestarts: restarts,
      connected: this.active?.ws.readyState === WebSocket.OPEN,
    };
  }

  private conns(): Conn[] {
    return [this.active, this.standby, ...this.retiring].filter((c): c is Conn => c !== undefined);
  }

  private open(): Conn {
    const ws = new WebSocket(this.spec.url, { handshakeTimeout: 10_000, perMessageDeflate: false });
    const now = this.clock.now();
    const conn: Conn = { id: this.nextId++, ws, openedAt: now, lastActivity: now, live: false, retired: false };
    this.counters.connects += 1;
    const log = this.logger.child({ conn: conn.id });
    ws.on('open', () => {
      conn.lastActivity = this.clock.now();
      log.info('connected', { url: this.spec.url });
      for (const m of this.spec.subscribeMessages) ws.send(m);
      if (this.paused) ws.pause();
    });
    ws.on('message', (data: WebSocket.RawData) => {
      if (this.stopped) return; // stopping: nothing more is accepted
      conn.lastActivity = this.clock.now();
      this.handleFrame(conn, rawToString(data), log);
    });
    // ws answers pings with pongs by itself; both still prove the connection is alive.
    ws.on('ping', () => (conn.lastActivity = this.clock.now()));
    ws.on('pong', () => (conn.lastActivity = this.clock.now()));
    ws.on('unexpected-response', (_req, res) => {
      this.onRefused(conn, res.statusCode ?? 0, res.headers['retry-after'], log);
      ws.terminate();
    });
    ws.on('error', (err) => log.warn('connection error', { reason: errorMessage(err) }));
    ws.on('close', (code, reason) => this.onClose(conn, code, reason.toString(), log));
    return conn;
  }

  private handleFrame(conn: Conn, text: string, log: Logger): void {
    this.counters.frames += 1;
    let event: FeedEvent;
    try {
      event = this.spec.map(text, this.clock.now());
    } catch (err) {
      // A mapper must not throw, but a frame must never crash the process either.
      event = { kind: 'rejected', reason: `mapper error: ${errorMessage(err)}` };
    }
    switch (event.kind) {
      case 'trade':
        this.markLive(conn);
        if (this.sequences.accept(event.trade.symbol, event.seq, this.clock.now(), Date.parse(event.trade.timestamp))) {
          this.counters.trades += 1;
          this.hooks.onTrade(event.trade);
        } else {
          this.counters.duplicates += 1;
        }
        return;
      case 'heartbeat':
        this.markLive(conn);
        if (event.lastSeq !== undefined) this.sequences.observeLast(event.symbol, event.lastSeq, this.clock.now());
        return;
      case 'shutdown':
        if (conn !== this.active) return; // a notice from a connection already being replaced
        log.info('exchange announced a shutdown of this connection: opening a new one first');
        this.startStandby('server shutdown');
        return;
      case 'control':
        this.markLive(conn);
        log.debug('control message', { detail: event.detail });
        return;
      case 'exchange_error':
        this.counters.exchangeErrors += 1;
        if (event.fatal) {
          this.fail(
            new CoattailError(
              `${displayName(this.spec.exchange)} refused the subscription`,
              event.detail,
              'drop the symbols it does not list from --symbols, or leave the exchange out of --exchanges',
            ),
          );
          return;
        }
        log.warn('exchange reported an error', { detail: event.detail });
        return;
      case 'ignored':
        this.counters.ignored += 1;
        if (log.enabled('debug')) log.debug('skipped unexpected frame', { detail: event.detail });
        return;
      case 'rejected':
        this.counters.rejected += 1;
        if (log.enabled('debug')) log.debug('skipped malformed frame', { reason: event.reason, frame: text.slice(0, 200) });
    }
  }

  /** The HTTP upgrade was refused: wait when asked to (429/418), give up when retrying cannot help. */
  private onRefused(conn: Conn, status: number, retryAfter: string | string[] | undefined, log: Logger): void {
    const name = displayName(this.spec.exchange);
    if (status === 429 || status === 418) {
      const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
      const waitMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 60_000;
      this.notBefore = this.clock.now() + waitMs;
      log.warn(`${name} rate-limited the connection: waiting before reconnecting`, { status, wait_ms: waitMs });
      return;
    }
    if (status >= 400 && status < 500 && !this.everLive) {
      const why = status === 451 ? `HTTP 451: ${name} refuses connections from this location` : `HTTP ${status} for ${this.spec.url}`;
      conn.retired = true;
      this.fail(
        new CoattailError(
          `${name} refused the WebSocket connection`,
          why,
          `check --${this.spec.exchange}-url, or leave ${this.spec.exchange} out of --exchanges`,
        ),
      );
      return;
    }
    log.warn(`${name} refused the WebSocket upgrade`, { status });
  }

  private fail(err: CoattailError): void {
    this.logger.error(err.line());
    this.hooks.onFatal?.(err);
    void this.stop();
  }

  /** The first protocol message proves the subscription; a standby that gets one takes over. */
  private markLive(conn: Conn): void {
    if (conn.live) return;
    conn.live = true;
    this.everLive = true;
    if (conn === this.standby) {
      this.standbyAttempt = 0;
      this.promoteStandby();
    }
  }

  private startStandby(reason: string): void {
    if (this.stopped || this.standby || !this.active) return;
    this.counters.plannedReconnects += 1;
    this.logger.info('make-before-break reconnect', { reason });
    this.standby = this.open();
  }

  /** The standby becomes active; the old connection keeps delivering for the overlap, then closes. */
  private promoteStandby(): void {
    const next = this.standby;
    if (!next) return;
    const old = this.active;
    this.active = next;
    this.standby = undefined;
    if (!old) return;
    this.retiring.add(old);
    setTimeout(() => {
      this.retiring.delete(old);
      if (!old.retired) void this.closeConn(old, 'replaced by a new connection');
    }, this.opts.overlapMs ?? 2_000).unref();
  }

  private onClose(conn: Conn, code: number, reason: string, log: Logger): void {
    this.retiring.delete(conn);
    if (conn.retired || this.stopped) return;
    conn.retired = true;
    log.warn('disconnected', { code, reason: reason || undefined });
    if (conn === this.standby) {
      this.standby = undefined;
      // The active connection still serves; the age trigger tries again after a backoff.
      this.standbyNotBefore = this.clock.now() + fullJitterDelay(this.standbyAttempt++, this.backoff, this.random);
      return;
    }
    if (conn !== this.active) return;
    this.active = undefined;
    if (this.standby) {
      // The old one went first: the standby takes over even before its first message.
      this.active = this.standby;
      this.standby = undefined;
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = Math.max(fullJitterDelay(this.attempt, this.backoff, this.random), this.notBefore - this.clock.now());
    this.attempt += 1;
    this.counters.reconnects += 1;
    this.logger.info('reconnecting', { in_ms: delay, attempt: this.attempt });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.stopped || this.active) return;
      this.active = this.open();
    }, delay);
  }

  private checkHealth(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    this.sequences.settle(now);
    if (this.paused) return; // silence while we are not reading is ours
    for (const conn of this.conns()) {
      if (conn.retired) continue;
      if (now - conn.lastActivity > this.spec.staleAfterMs) {
        this.counters.staleDisconnects += 1;
        this.logger.warn('no message or ping within the stale limit: reconnecting', { conn: conn.id, silent_ms: now - conn.lastActivity });
        conn.ws.terminate();
      }
    }
    const active = this.active;
    if (!active?.live) return;
    const age = now - active.openedAt;
    // Only a connection that stays up proves the server healthy: one that drops right after its
    // first message must not reset the backoff, or a flapping server is hammered.
    if (this.attempt > 0 && age >= (this.opts.stableAfterMs ?? 30_000)) this.attempt = 0;
    if (this.spec.maxConnectionAgeMs !== undefined && age >= this.spec.maxConnectionAgeMs && now >= this.standbyNotBefore) {
      this.startStandby('connection age limit');
    }
  }

  private closeConn(conn: Conn, why: string): Promise<void> {
    conn.retired = true;
    return new Promise((resolve) => {
      const ws = conn.ws;
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      const timer = setTimeout(() => ws.terminate(), this.opts.closeGraceMs ?? 2_000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.terminate();
        return;
      }
      // A paused socket would never read the server's close reply; when stopping, frames are ignored anyway.
      if (this.stopped) ws.resume();
      ws.close(1000, why);
    });
  }
}

function rawToString(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
