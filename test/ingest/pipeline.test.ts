import { afterEach, describe, expect, it } from 'vitest';
import { binanceFeed } from '../../src/exchanges/binance/feed.js';
import { coinbaseFeed } from '../../src/exchanges/coinbase/feed.js';
import { runIngest } from '../../src/ingest/pipeline.js';
import type { SinkStats, TradeSink, UndeliveredRecord } from '../../src/ingest/sink.js';
import { UnifiedTradeSchema, type UnifiedTrade } from '../../src/trade.js';
import { waitFor } from '../helpers/context.js';
import { closeServers, server } from '../helpers/ws-server.js';

afterEach(closeServers);

const frame = (id: number) =>
  `{"stream":"btcusdt@trade","data":{"e":"trade","E":1714564800000,"s":"BTCUSDT","t":${id},"p":"60000.00","q":"0.01","T":1714564800000,"m":false,"M":true}}`;

/** A sink with a fixed capacity: it reports "full" until the test drains it. */
class HoldingSink implements TradeSink {
  lines: string[] = [];
  held = 0;
  private drain: (() => void) | undefined;
  private fatal: ((e: Error) => void) | undefined;
  constructor(private capacity: number) {}
  write(_t: UnifiedTrade, line: string): boolean {
    this.lines.push(line);
    this.held += 1;
    return this.held < this.capacity;
  }
  release(): void {
    this.held = 0;
    this.capacity = Number.POSITIVE_INFINITY;
    this.drain?.();
  }
  onDrain(cb: () => void): void {
    this.drain = cb;
  }
  onFatal(cb: (e: Error) => void): void {
    this.fatal = cb;
  }
  fail(err: Error): void {
    this.fatal?.(err);
  }
  onUndelivered(): void {}
  onEnd(): void {}
  unsettled(): UndeliveredRecord[] {
    return [];
  }
  async close(): Promise<void> {}
  stats(): SinkStats {
    return { accepted: this.lines.length, sent: this.lines.length, retried: 0, failed: 0, lost: 0, buffered: this.held };
  }
}

describe('ingest pipeline', () => {
  it('pauses the sockets when the sink is full and delivers everything once it drains', async () => {
    const total = 20_000;
    const srv = await server((ws) => {
      for (let id = 1; id <= total; id++) ws.send(frame(id));
    });
    const sink = new HoldingSink(500);
    const abort = new AbortController();
    const run = runIngest(
      { feeds: [binanceFeed({ baseUrl: srv.url, symbols: ['BTC-USDT'] })], statsIntervalMs: 0, shutdownTimeoutMs: 1_000 },
      sink,
      { signal: abort.signal },
    );
    await waitFor(() => sink.lines.length >= 500, 5_000, 'the sink to fill');
    await new Promise((r) => setTimeout(r, 300));
    const whileFull = sink.lines.length;
    // Paused: frames already read from the socket still arrive, but far from all of them.
    expect(whileFull).toBeLessThan(total / 2);
    sink.release();
    await waitFor(() => sink.lines.length === total, 10_000, 'every trade after the drain');
    abort.abort();
    const { summary } = await run;
    const ids = sink.lines.map((l) => Number((JSON.parse(l) as UnifiedTrade).trade_id));
    expect(new Set(ids).size).toBe(total);
    expect(Math.min(...ids)).toBe(1);
    expect(Math.max(...ids)).toBe(total);
    expect(summary).toMatchObject({ received: total, stop_reason: 'signal', gaps: 0 });
  });

  it('stops at exactly --max-trades, with valid unified trades from both exchanges', async () => {
    const binance = await server((ws) => {
      for (let id = 1; id <= 50; id++) ws.send(frame(id));
    });
    const coinbase = await server((ws) => {
      ws.on('message', () => {
        for (let id = 1; id <= 50; id++) {
          ws.send(
            `{"type":"match","trade_id":${id},"sequence":${id},"maker_order_id":"m","taker_order_id":"t","time":"2024-05-01T12:00:00.000001Z","product_id":"BTC-USDT","size":"1","price":"60000","side":"buy"}`,
          );
        }
      });
    });
    const sink = new HoldingSink(Number.POSITIVE_INFINITY);
    const { summary } = await runIngest(
      {
        feeds: [binanceFeed({ baseUrl: binance.url, symbols: ['BTC-USDT'] }), coinbaseFeed({ url: coinbase.url, symbols: ['BTC-USDT'] })],
        maxTrades: 80,
        statsIntervalMs: 0,
        shutdownTimeoutMs: 1_000,
      },
      sink,
    );
    expect(sink.lines).toHaveLength(80);
    expect(summary.received).toBe(80);
    expect(summary.stop_reason).toBe('reached --max-trades 80');
    for (const l of sink.lines) expect(UnifiedTradeSchema.safeParse(JSON.parse(l)).success).toBe(true);
  });

  it('ends with the fatal error when the sink cannot go on', async () => {
    const srv = await server((ws) => ws.send(frame(1)));
    const sink = new HoldingSink(Number.POSITIVE_INFINITY);
    const run = runIngest(
      { feeds: [binanceFeed({ baseUrl: srv.url, symbols: ['BTC-USDT'] })], statsIntervalMs: 0, shutdownTimeoutMs: 1_000 },
      sink,
    );
    await waitFor(() => sink.lines.length === 1, 5_000, 'a trade');
    sink.fail(new Error('stream deleted'));
    const result = await run;
    expect(result.fatal?.message).toBe('stream deleted');
    expect(result.summary.stop_reason).toBe('the sink failed');
  });

  it('counts a trade the sink throws on as received and lost, and stops with the error', async () => {
    const srv = await server((ws) => ws.send(frame(1)));
    const sink = new (class extends HoldingSink {
      override write(): boolean {
        throw new Error('record over the size limit');
      }
    })(Number.POSITIVE_INFINITY);
    const result = await runIngest(
      { feeds: [binanceFeed({ baseUrl: srv.url, symbols: ['BTC-USDT'] })], statsIntervalMs: 0, shutdownTimeoutMs: 1_000 },
      sink,
    );
    expect(result.fatal?.message).toBe('record over the size limit');
    expect(result.summary).toMatchObject({ stop_reason: 'the sink failed', received: 1, sent: 0, failed: 1, saved: 0, lost: 1 });
  });

  it('stops on --duration', async () => {
    const srv = await server(() => {});
    const started = Date.now();
    const { summary } = await runIngest(
      { feeds: [binanceFeed({ baseUrl: srv.url, symbols: ['BTC-USDT'] })], durationMs: 300, statsIntervalMs: 0, shutdownTimeoutMs: 1_000 },
      new HoldingSink(10),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(summary.stop_reason).toBe('reached --duration 0.3s');
  });
});
