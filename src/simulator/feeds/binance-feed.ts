import type { WebSocket } from 'ws';
import type { Prng } from '../prng.js';
import { handleControl, shutdownFrame, tradeEvent, tradeStreamName, wrap, type BinanceRoute, type TimeUnit } from '../protocols/binance.js';
import { malformedFrames } from '../protocols/malformed.js';
import type { Print } from '../types.js';
import { Peer, type PeerContext } from './peer.js';

export interface BinanceTiming {
  pingIntervalMs: number;
  pongTimeoutMs: number;
  maxConnectionAgeMs: number;
}

interface Client {
  peer: Peer;
  streams: Set<string>;
  combined: boolean;
  unit: TimeUnit;
}

/** Binance connections: routes, control messages, trade fan-out, shutdowns and connection age. */
export class BinanceFeed {
  private readonly clients = new Set<Client>();
  /** `btcusdt@trade` → `BTC-USDT`, for the symbols this market trades. */
  private readonly symbolOf: ReadonlyMap<string, string>;

  constructor(
    private readonly ctx: PeerContext,
    private readonly timing: BinanceTiming,
    symbols: readonly string[],
    private readonly prng: Prng,
    private readonly clock: () => number,
    private readonly onSubscriptions: () => void,
  ) {
    this.symbolOf = new Map(symbols.map((s) => [tradeStreamName(s), s]));
  }

  get connections(): number {
    return this.clients.size;
  }

  accept(ws: WebSocket, route: BinanceRoute): void {
    const peer = new Peer(ws, 'binance', this.ctx, this.timing);
    const client: Client = { peer, streams: new Set(route.streams), combined: route.combined, unit: route.timeUnit };
    this.clients.add(client);
    peer.log.debug('binance client connected', { streams: route.streams.join('/'), combined: route.combined, timeUnit: route.timeUnit });
    ws.on('close', () => {
      this.clients.delete(client);
      peer.log.debug('binance client disconnected');
    });
    ws.on('message', (data, isBinary) => {
      // Silence means the server neither reads back nor answers, as if the link had frozen.
      if (this.ctx.isSilent('binance')) return;
      const outcome = handleControl(isBinary ? '' : data.toString(), client.streams, client.combined);
      for (const s of outcome.subscribe ?? []) client.streams.add(s);
      for (const s of outcome.unsubscribe ?? []) client.streams.delete(s);
      if (outcome.combined !== undefined) client.combined = outcome.combined;
      peer.sendJson(outcome.reply);
      if (outcome.subscribe || outcome.unsubscribe) this.onSubscriptions();
    });
    // Binance cuts every connection at 24 h; clients must reconnect.
    peer.after(this.timing.maxConnectionAgeMs, () => {
      peer.log.info('binance connection reached its maximum age: closing', { maxConnectionAgeMs: this.timing.maxConnectionAgeMs });
      peer.close(1000, 'connection reached its maximum age');
    });
    if (client.streams.size > 0) this.onSubscriptions();
  }

  /** True when the connected clients together subscribe to every one of these symbols' trades. */
  covers(symbols: readonly string[]): boolean {
    const all = new Set<string>();
    for (const c of this.clients) for (const s of c.streams) all.add(s);
    return symbols.every((s) => all.has(tradeStreamName(s)));
  }

  broadcast(print: Print): void {
    const stream = tradeStreamName(print.trade.symbol);
    const frames: Array<string | undefined> = [undefined, undefined, undefined, undefined];
    for (const c of this.clients) {
      if (!c.streams.has(stream)) continue;
      // Each client gets one of four encodings (raw/combined × ms/µs); each is built once per trade.
      const slot = (c.combined ? 2 : 0) + (c.unit === 'us' ? 1 : 0);
      const frame = (frames[slot] ??= wrap(stream, tradeEvent(print, c.unit), c.combined));
      c.peer.send(frame);
    }
  }

  /** `serverShutdown` to every connection, then each is closed after graceMs. */
  serverShutdown(graceMs: number): void {
    const now = this.clock();
    for (const c of this.clients) {
      c.peer.send(shutdownFrame(now, c.combined, c.unit));
      c.peer.after(graceMs, () => c.peer.close(1001, 'server shutdown'));
    }
  }

  disconnect(): void {
    for (const c of this.clients) c.peer.terminate();
  }

  /** Garbage frames to each client subscribed to at least one traded symbol. */
  malformed(count: number): void {
    const now = this.clock();
    for (const c of this.clients) {
      const stream = [...c.streams].find((s) => this.symbolOf.has(s));
      const symbol = stream === undefined ? undefined : this.symbolOf.get(stream);
      if (symbol === undefined) continue;
      const timeMs = Math.floor(now / 1000);
      const frames = malformedFrames(
        count,
        { exchange: 'binance', symbol, combined: c.combined, timeMs, timeIso: new Date(timeMs).toISOString() },
        this.prng,
      );
      for (const f of frames) if (c.peer.send(f.text)) this.ctx.counters.malformedSent += 1;
    }
  }

  closeAll(): void {
    for (const c of this.clients) c.peer.terminate();
  }
}
