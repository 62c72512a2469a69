import { WebSocket } from 'ws';
import type { Logger } from '../../core/logger.js';
import type { Exchange } from '../../trade.js';

/** Counters the feeds share with the simulator's stats(). */
export interface DeliveryCounters {
  framesSent: Record<Exchange, number>;
  malformedSent: number;
  slowClientsDropped: number;
  pongTimeouts: number;
  socketErrors: number;
}

export interface PeerContext {
  logger: Logger;
  counters: DeliveryCounters;
  /** A `silence` event is on for this exchange: send nothing at all, not even pings. */
  isSilent(exchange: Exchange): boolean;
  maxBufferedBytes: number;
}

export interface Keepalive {
  pingIntervalMs: number;
  pongTimeoutMs: number;
}

let nextPeerId = 1;

/**
 * One client connection with the rules both exchanges share: protocol pings, dropping a client that
 * stops answering them or reads too slowly, and timers that die with the connection.
 */
export class Peer {
  readonly id = nextPeerId++;
  readonly log: Logger;
  private readonly timers = new Set<NodeJS.Timeout>();
  private pongTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly exchange: Exchange,
    private readonly ctx: PeerContext,
    keepalive: Keepalive,
  ) {
    this.log = ctx.logger.child({ exchange, client: this.id });
    ws.on('pong', () => this.clearPongTimer());
    ws.on('error', (err) => {
      ctx.counters.socketErrors += 1;
      this.log.debug('client socket error', { error: err.message });
    });
    ws.on('close', () => this.dispose());
    this.every(keepalive.pingIntervalMs, () => this.ping(keepalive.pongTimeoutMs));
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends unless silenced or closed; cuts off a client whose unsent data passed the limit. */
  send(text: string): boolean {
    if (!this.open || this.ctx.isSilent(this.exchange)) return false;
    if (this.ws.bufferedAmount > this.ctx.maxBufferedBytes) {
      this.ctx.counters.slowClientsDropped += 1;
      this.log.warn('dropping a slow client', { bufferedBytes: this.ws.bufferedAmount });
      this.ws.terminate();
      return false;
    }
    this.ws.send(text);
    this.ctx.counters.framesSent[this.exchange] += 1;
    return true;
  }

  sendJson(value: unknown): boolean {
    return this.send(JSON.stringify(value));
  }

  every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    this.timers.add(t);
  }

  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  private ping(pongTimeoutMs: number): void {
    if (!this.open || this.ctx.isSilent(this.exchange)) return;
    this.ws.ping();
    // The deadline runs from the first unanswered ping; any pong clears it.
    this.pongTimer ??= setTimeout(() => {
      this.pongTimer = undefined;
      this.ctx.counters.pongTimeouts += 1;
      this.log.info('client did not answer pings: disconnecting', { pongTimeoutMs });
      this.ws.terminate();
    }, pongTimeoutMs);
  }

  private clearPongTimer(): void {
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  private dispose(): void {
    this.clearPongTimer();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
