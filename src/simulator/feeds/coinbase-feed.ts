import type { WebSocket } from 'ws';
import { isoFromMicros } from '../../core/time.js';
import type { Prng } from '../prng.js';
import {
  CHANNELS,
  errorMessage,
  heartbeatMessage,
  lastMatchMessage,
  matchMessage,
  parseRequest,
  subscriptionsMessage,
  type Channel,
} from '../protocols/coinbase.js';
import { malformedFrames } from '../protocols/malformed.js';
import type { Print } from '../types.js';
import { Peer, type PeerContext } from './peer.js';

export interface CoinbaseTiming {
  subscribeTimeoutMs: number;
  heartbeatIntervalMs: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
}

interface Client {
  peer: Peer;
  subscriptions: Map<Channel, Set<string>>;
  subscribedOnce: boolean;
}

/** Coinbase connections: the subscribe handshake and deadline, last_match, matches, heartbeats. */
export class CoinbaseFeed {
  private readonly clients = new Set<Client>();
  private readonly products: ReadonlySet<string>;
  /** The latest printed trade of each product: what last_match and heartbeats report. */
  private readonly last = new Map<string, Print>();

  constructor(
    private readonly ctx: PeerContext,
    private readonly timing: CoinbaseTiming,
    initial: readonly Print[],
    private readonly prng: Prng,
    private readonly clock: () => number,
    private readonly onSubscriptions: () => void,
  ) {
    for (const p of initial) this.last.set(p.trade.symbol, p);
    this.products = new Set(this.last.keys());
  }

  get connections(): number {
    return this.clients.size;
  }

  accept(ws: WebSocket): void {
    const peer = new Peer(ws, 'coinbase', this.ctx, this.timing);
    const client: Client = { peer, subscriptions: new Map(CHANNELS.map((c) => [c, new Set<string>()])), subscribedOnce: false };
    this.clients.add(client);
    peer.log.debug('coinbase client connected');
    ws.on('close', () => {
      this.clients.delete(client);
      peer.log.debug('coinbase client disconnected');
    });
    ws.on('message', (data, isBinary) => {
      if (this.ctx.isSilent('coinbase')) return;
      this.handle(client, isBinary ? '' : data.toString());
    });
    peer.after(this.timing.subscribeTimeoutMs, () => {
      if (client.subscribedOnce) return;
      peer.log.info('coinbase client did not subscribe in time: closing', { subscribeTimeoutMs: this.timing.subscribeTimeoutMs });
      peer.sendJson(errorMessage('Failed to subscribe', `no subscribe message within ${this.timing.subscribeTimeoutMs} ms of connecting`));
      peer.close(1000, 'subscribe timeout');
    });
    peer.every(this.timing.heartbeatIntervalMs, () => this.heartbeat(client));
  }

  private handle(client: Client, text: string): void {
    const parsed = parseRequest(text, this.products);
    if (!parsed.ok) {
      client.peer.log.debug('coinbase client request refused', { reason: String(parsed.error.reason ?? parsed.error.message) });
      client.peer.sendJson(parsed.error);
      return;
    }
    const { type, channels } = parsed.request;
    const newMatches: string[] = [];
    for (const [channel, ids] of channels) {
      const set = client.subscriptions.get(channel) as Set<string>;
      if (type === 'unsubscribe') {
        // An unsubscribe naming a channel without products leaves that channel entirely.
        if (ids.length === 0) set.clear();
        for (const id of ids) set.delete(id);
        continue;
      }
      for (const id of ids) {
        if (channel === 'matches' && !set.has(id)) newMatches.push(id);
        set.add(id);
      }
    }
    if (type === 'subscribe') client.subscribedOnce = true;
    client.peer.sendJson(subscriptionsMessage(client.subscriptions));
    // The product's most recent trade, once per newly subscribed product: old news a client that
    // was connected before has already seen.
    for (const product of newMatches) {
      const last = this.last.get(product);
      if (last) client.peer.sendJson(lastMatchMessage(last));
    }
    this.onSubscriptions();
  }

  private heartbeat(client: Client): void {
    const products = client.subscriptions.get('heartbeat');
    if (!products || products.size === 0) return;
    const time = isoFromMicros(this.clock());
    for (const product of products) {
      const last = this.last.get(product);
      if (last) client.peer.sendJson(heartbeatMessage(product, last, time));
    }
  }

  /** True when the connected clients together receive matches for every one of these products. */
  covers(products: readonly string[]): boolean {
    const all = new Set<string>();
    for (const c of this.clients) for (const p of c.subscriptions.get('matches') ?? []) all.add(p);
    return products.every((p) => all.has(p));
  }

  broadcast(print: Print): void {
    const product = print.trade.symbol;
    this.last.set(product, print);
    let frame: string | undefined;
    for (const c of this.clients) {
      if (!c.subscriptions.get('matches')?.has(product)) continue;
      frame ??= JSON.stringify(matchMessage(print));
      c.peer.send(frame);
    }
  }

  disconnect(): void {
    for (const c of this.clients) c.peer.terminate();
  }

  /** Garbage frames to each client subscribed to matches. */
  malformed(count: number): void {
    const now = this.clock();
    for (const c of this.clients) {
      const [product] = c.subscriptions.get('matches') ?? [];
      if (product === undefined) continue;
      const frames = malformedFrames(
        count,
        { exchange: 'coinbase', symbol: product, combined: false, timeMs: Math.floor(now / 1000), timeIso: isoFromMicros(now) },
        this.prng,
      );
      for (const f of frames) if (c.peer.send(f.text)) this.ctx.counters.malformedSent += 1;
    }
  }

  closeAll(): void {
    for (const c of this.clients) c.peer.terminate();
  }
}
