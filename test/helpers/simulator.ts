/**
 * Test helpers for the simulator: a real WebSocket client that records everything it receives and
 * lets a test await the frames it needs, and a builder for small, fast scenarios.
 */
import { afterEach } from 'vitest';
import { WebSocket } from 'ws';
import { parseScenario } from '../../src/simulator/scenario-loader.js';
import type { Scenario, ScenarioInput } from '../../src/simulator/scenario.js';
import type { SimulatorHandle } from '../../src/simulator/server.js';
import type { PrintedTrade } from '../../src/simulator/types.js';

export interface Frame {
  text: string;
  at: number;
  /** The parsed JSON, or undefined when the text is not JSON. */
  json: unknown;
}

type Waiter = { test: () => boolean; resolve: () => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

export class TestClient {
  readonly frames: Frame[] = [];
  readonly pings: number[] = [];
  closedWith: { code: number; at: number } | undefined;
  readonly closed: Promise<{ code: number; at: number }>;
  private waiters: Waiter[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.frames.push({ text, at: Date.now(), json });
      this.wake();
    });
    ws.on('ping', () => {
      this.pings.push(Date.now());
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code) => {
        this.closedWith = { code, at: Date.now() };
        resolve(this.closedWith);
        this.wake();
      });
    });
  }

  static async connect(url: string, opts: { autoPong?: boolean } = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { autoPong: opts.autoPong ?? true });
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** JSON objects received so far. */
  get messages(): Array<Record<string, unknown>> {
    return this.frames.flatMap((f) => (f.json !== null && typeof f.json === 'object' ? [f.json as Record<string, unknown>] : []));
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** Resolves once `test()` holds (checked on every frame, ping and close), or fails after timeoutMs. */
  until(test: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        test,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`timed out waiting for ${what} (${this.frames.length} frames, ${this.pings.length} pings)`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** The first JSON message after `from` frames that matches, awaited. */
  async next(match: (m: Record<string, unknown>) => boolean, what: string, from = 0, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await this.until(
      () => {
        found = this.frames
          .slice(from)
          .map((f) => f.json as Record<string, unknown>)
          .find((j) => j !== null && typeof j === 'object' && match(j));
        return found !== undefined;
      },
      what,
      timeoutMs,
    );
    return found as Record<string, unknown>;
  }

  async close(): Promise<void> {
    if (this.closedWith) return;
    this.ws.terminate();
    await this.closed;
  }

  private wake(): void {
    for (const w of [...this.waiters]) {
      if (w.test()) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve();
      }
    }
  }
}

/** A small market: fast rate, short tick, given symbols (BTC-USDT by default) and overrides. */
export function testScenario(overrides: Partial<ScenarioInput> = {}): Scenario {
  return parseScenario({
    name: 'test',
    rate: 500,
    tickMs: 5,
    symbols: [{ symbol: 'BTC-USDT', startPrice: 65000, sizeDecimals: 5 }],
    ...overrides,
  });
}

export const BTC_ETH = [
  { symbol: 'BTC-USDT', startPrice: 65000, sizeDecimals: 5 },
  { symbol: 'ETH-USDT', startPrice: 3500, sizeDecimals: 4 },
];

/** Collects printed trades from a simulator; `until` resolves when enough have printed. */
export class PrintLog {
  readonly trades: PrintedTrade[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  add = (t: PrintedTrade): void => {
    this.trades.push(t);
    for (const w of [...this.waiters]) {
      if (this.trades.length >= w.n) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve();
      }
    }
  };

  until(n: number): Promise<void> {
    if (this.trades.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  find(exchange: string, symbol: string, tradeId: number): PrintedTrade | undefined {
    return this.trades.find((t) => t.exchange === exchange && t.symbol === symbol && t.tradeId === tradeId);
  }
}

/** Exact product of two decimal strings as a [numerator, scale] pair: value = numerator / 10^scale. */
export function exactProduct(a: string, b: string): { numerator: bigint; scale: number } {
  const parse = (s: string): { n: bigint; scale: number } => {
    const [int = '0', frac = ''] = s.split('.');
    return { n: BigInt(int + frac), scale: frac.length };
  };
  const x = parse(a);
  const y = parse(b);
  return { numerator: x.n * y.n, scale: x.scale + y.scale };
}

/** price × size ≥ target (an integer or decimal string), exactly. */
export function productAtLeast(price: string, size: string, target: string): boolean {
  const p = exactProduct(price, size);
  const [int = '0', frac = ''] = target.split('.');
  const scale = Math.max(p.scale, frac.length);
  return p.numerator * 10n ** BigInt(scale - p.scale) >= BigInt(int + frac) * 10n ** BigInt(scale - frac.length);
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Simulators and clients a test file opened, all closed after each test. */
export function closedAfterEach(): { sims: SimulatorHandle[]; clients: TestClient[] } {
  const open = { sims: [] as SimulatorHandle[], clients: [] as TestClient[] };
  afterEach(async () => {
    await Promise.all(open.clients.splice(0).map((c) => c.close()));
    await Promise.all(open.sims.splice(0).map((s) => s.close()));
  });
  return open;
}
