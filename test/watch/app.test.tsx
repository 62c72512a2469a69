import chalk from 'chalk';
import { render, cleanup } from 'ink-testing-library';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAlert, type WatchAlert } from '../../src/watch/alerts.js';
import { AlertFeed } from '../../src/watch/feed.js';
import type { WatchSettings } from '../../src/watch/Header.js';
import type { WatchKind } from '../../src/watch/kinds.js';
import { WatchApp } from '../../src/watch/WatchApp.js';
import { anomalyItem, isoAt, spreadItem, whaleItem, type Plain } from '../helpers/watch.js';

const NOW = Date.parse('2024-05-01T12:00:00.000Z');
const SETTINGS: WatchSettings = { since: '15m', symbols: [], minUsd: undefined };
const ESC = '\u001b';

beforeAll(() => {
  // ink colours through chalk, which sees no terminal under the test runner: force basic colours.
  chalk.level = 1;
});
afterEach(cleanup);

function alert(item: Plain): WatchAlert {
  const parsed = parseAlert(item.alert_type as WatchAlert['alert_type'], item);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.alert;
}

/** Waits (bounded) until the last frame satisfies the check; returns that frame. */
async function frame(app: ReturnType<typeof render>, check: (f: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const f = app.lastFrame() ?? '';
    if (check(f)) return f;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last frame:\n${f}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function mount(
  kind: WatchKind,
  opts: { color?: boolean; onQuit?: () => void; settings?: WatchSettings } = {},
): { app: ReturnType<typeof render>; feed: AlertFeed } {
  const feed = new AlertFeed();
  const app = render(
    <WatchApp
      kind={kind}
      feed={feed}
      settings={opts.settings ?? SETTINGS}
      color={opts.color ?? false}
      now={() => NOW}
      tickMs={60_000}
      onQuit={opts.onQuit}
    />,
  );
  return { app, feed };
}

const buy = whaleItem({
  alert_time: '2024-05-01T11:59:50.000Z',
  detected_at: '2024-05-01T11:59:51.000Z',
  written_at: '2024-05-01T11:59:51.200Z',
  trade_id: 'b1',
  side: 'buy',
  price: 60000,
  quantity: 2.5,
  quote_volume: 150000,
  threshold_multiple: 1.5,
});
const sell = whaleItem({
  alert_time: '2024-05-01T11:59:55.000Z',
  detected_at: '2024-05-01T11:59:56.000Z',
  exchange: 'coinbase',
  symbol: 'ETH-USDT',
  trade_id: 's1',
  side: 'sell',
  price: 3012.5,
  quantity: 409.8176,
  quote_volume: 1234567.3,
  threshold_multiple: 12.345673,
});

describe('WatchApp rows', () => {
  it('draws whale rows newest first with every column at its width', async () => {
    const { app, feed } = mount('whales');
    feed.push([alert(buy), alert(sell)]);
    const f = await frame(app, (t) => t.includes('BTC-USDT') && t.includes('ETH-USDT'), 'two rows');
    const lines = f.split('\n');
    const title = lines.findIndex((l) => l.startsWith('time'));
    expect(lines[title]).toBe('time     exchange symbol    side      price       size    notional  x thr   lag');
    // Newest first; lag is written_at − alert_time (1.2 s), '-' without written_at.
    expect(lines[title + 1]).toBe('11:59:55 coinbase ETH-USDT  sell   3,012.50   409.8176   1,234,567 12.35x     -');
    expect(lines[title + 2]).toBe('11:59:50 binance  BTC-USDT  buy   60,000.00        2.5     150,000   1.5x  1.2s');
    expect(lines[title + 1]!.length).toBeLessThanOrEqual(80);
  });

  it('colours the taker side: buy green, sell red; and not at all without colour', async () => {
    const colored = mount('whales', { color: true });
    colored.feed.push([alert(buy), alert(sell)]);
    const f = await frame(colored.app, (t) => t.includes('ETH-USDT'), 'rows');
    expect(f).toContain(`${ESC}[32mbuy ${ESC}[39m`);
    expect(f).toContain(`${ESC}[31msell${ESC}[39m`);

    const bare = mount('whales', { color: false });
    bare.feed.push([alert(buy), alert(sell)]);
    const g = await frame(bare.app, (t) => t.includes('ETH-USDT'), 'rows');
    expect(g).not.toContain(ESC);
  });

  it('cuts a cell too long for its column, and shortens a number rather than cut it, instead of wrapping', async () => {
    const { app, feed } = mount('whales');
    feed.push([alert(whaleItem({ alert_time: isoAt(NOW, -1_000), symbol: 'VERYLONGCOIN-USDT', quote_volume: 123456789012 }))]);
    const f = await frame(app, (t) => t.includes('VERYLONGC'), 'row');
    const row = f.split('\n').find((l) => /^\d\d:\d\d:\d\d /.test(l))!;
    expect(row).toContain(' VERYLONG… ');
    expect(row).toContain('     123.46B ');
    expect(row.length).toBeLessThanOrEqual(80);
  });

  it('draws anomaly and spread rows', async () => {
    const a = mount('anomalies');
    a.feed.push([alert(anomalyItem({ alert_time: '2024-05-01T11:58:00.000Z', written_at: '2024-05-01T12:00:05.000Z' }))]);
    const fa = await frame(a.app, (t) => t.includes('BTC-USDT'), 'anomaly row');
    expect(fa).toContain('time     exchange symbol          volume trades     baseline      z   thr   lag');
    expect(fa).toContain('11:58:00 binance  BTC-USDT     1,500,000     42      400,000   3.67   2.5    2m');

    const s = mount('spreads');
    s.feed.push([alert(spreadItem({ alert_time: '2024-05-01T11:59:30.000Z' }))]);
    const fs = await frame(s.app, (t) => t.includes('BTC-USDT'), 'spread row');
    expect(fs).toContain('time     symbol    high      high vwap low        low vwap  spread   thr   lag');
    expect(fs).toContain('11:59:30 BTC-USDT  binance   60,360.00 coinbase  60,000.00  0.598%  0.5%     -');
  });
});

describe('WatchApp header', () => {
  it('counts alerts raised in the last minute and names the biggest trade', async () => {
    const { app, feed } = mount('whales');
    const at = (s: number, qv: number, id: string, symbol = 'BTC-USDT', side = 'buy'): WatchAlert =>
      alert(
        whaleItem({
          alert_time: isoAt(NOW, -s * 1000 - 500),
          detected_at: isoAt(NOW, -s * 1000),
          quote_volume: qv,
          trade_id: id,
          symbol,
          side,
        }),
      );
    // detected 5 s, 30 s and 59.999 s ago count; exactly 60 s and 2 min ago do not: 3 alerts/min.
    feed.push([at(5, 150_000, 'a'), at(30, 300_000, 'b'), at(120, 2_500_000, 'e', 'SOL-USDT', 'sell')]);
    feed.push([
      alert(
        whaleItem({
          alert_time: isoAt(NOW, -61_000),
          detected_at: isoAt(NOW, -59_999),
          quote_volume: 1_234_567,
          trade_id: 'c',
          symbol: 'ETH-USDT',
          side: 'sell',
        }),
      ),
      at(60, 100_001, 'd'),
    ]);
    const f = await frame(app, (t) => t.includes('5 shown'), 'five alerts');
    const [first, second] = f.split('\n');
    // The biggest is the 2.5 M SOL sell, even though it is older than a minute.
    expect(first).toBe('WHALES · 3 alerts/min · biggest 2,500,000 USDT SOL-USDT sell · LIVE');
    expect(second).toBe('since 15m · symbols all · 5 shown of 5 · times UTC');
  });

  it('shows the filters in force and the items skipped', async () => {
    const { app, feed } = mount('anomalies', { settings: { since: '2h', symbols: ['BTC-USDT', 'ETH-USDT'], minUsd: 250_000 } });
    feed.push([
      alert(anomalyItem({ alert_time: isoAt(NOW, -60_000), z_score: 3.1 })),
      alert(anomalyItem({ alert_time: isoAt(NOW, -120_000), symbol: 'ETH-USDT', exchange: 'coinbase', z_score: 4.256 })),
    ]);
    feed.skipped(2);
    const f = await frame(app, (t) => t.includes('skipped'), 'header');
    expect(f.split('\n')[0]).toBe('ANOMALIES · 0 alerts/min · highest z 4.26 ETH-USDT coinbase · LIVE');
    expect(f.split('\n')[1]).toBe('since 2h · symbols BTC-USDT,ETH-USDT · min 250,000 USD · 2 shown of 2 · 2 skipped · times UTC');
  });

  it('names the widest spread', async () => {
    const { app, feed } = mount('spreads');
    feed.push([
      alert(spreadItem({ alert_time: isoAt(NOW, -30_000), spread_pct: 0.61 })),
      alert(
        spreadItem({
          alert_time: isoAt(NOW, -60_000),
          symbol: 'ETH-USDT',
          spread_pct: 1.2345,
          high_exchange: 'coinbase',
          low_exchange: 'binance',
        }),
      ),
    ]);
    const f = await frame(app, (t) => t.includes('2 shown'), 'header');
    // Detected 30 s ago counts; exactly 60 s ago does not.
    expect(f.split('\n')[0]).toBe('SPREADS · 1 alerts/min · widest 1.235% ETH-USDT coinbase>binance · LIVE');
  });
});

describe('WatchApp keys', () => {
  it('p freezes the table while the header keeps counting; space resumes', async () => {
    const { app, feed } = mount('whales');
    feed.push([alert(buy)]);
    await frame(app, (t) => t.includes('BTC-USDT  buy'), 'first row');
    app.stdin.write('p');
    await frame(app, (t) => t.includes('PAUSED (0 new)'), 'paused');
    feed.push([alert(sell)]);
    const paused = await frame(app, (t) => t.includes('PAUSED (1 new)'), 'one new while paused');
    expect(paused).not.toContain('ETH-USDT  sell');
    expect(paused).toContain('1 shown of 2');
    app.stdin.write(' ');
    const live = await frame(app, (t) => t.includes('LIVE'), 'live again');
    expect(live).toContain('ETH-USDT  sell');
    expect(live).toContain('2 shown of 2');
  });

  it('/ opens the filter, enter applies it to the symbol, esc clears it', async () => {
    const { app, feed } = mount('whales');
    feed.push([alert(buy), alert(sell)]);
    await frame(app, (t) => t.includes('2 shown of 2'), 'rows');
    app.stdin.write('/');
    await frame(app, (t) => t.includes('filter symbol: _'), 'prompt');
    app.stdin.write('eth');
    await frame(app, (t) => t.includes('filter symbol: eth_'), 'typed');
    app.stdin.write('\r');
    const filtered = await frame(app, (t) => t.includes('1 shown of 2'), 'filtered');
    expect(filtered).toContain('filter ETH');
    expect(filtered).toContain('ETH-USDT  sell');
    expect(filtered).not.toContain('BTC-USDT  buy');
    // q typed into the filter is text, not quit.
    app.stdin.write('f');
    await frame(app, (t) => t.includes('filter symbol: ETH_'), 'prompt with the current filter');
    app.stdin.write(ESC);
    const cleared = await frame(app, (t) => t.includes('2 shown of 2'), 'cleared');
    expect(cleared).not.toContain('filter ETH');
    expect(cleared).toContain('p pause');
  });

  it('letters typed into the filter are not commands', async () => {
    let quits = 0;
    const { app, feed } = mount('whales', { onQuit: () => (quits += 1) });
    feed.push([alert(buy)]);
    await frame(app, (t) => t.includes('1 shown'), 'row');
    app.stdin.write('/');
    await frame(app, (t) => t.includes('filter symbol: _'), 'prompt');
    app.stdin.write('qp');
    await frame(app, (t) => t.includes('filter symbol: qp_'), 'typed');
    expect(quits).toBe(0);
    expect(app.lastFrame()).toContain('LIVE');
  });

  it('q quits, and so does Ctrl-C', async () => {
    for (const key of ['q', '\u0003']) {
      let quits = 0;
      const { app } = mount('whales', { onQuit: () => (quits += 1) });
      await frame(app, (t) => t.includes('waiting for whales'), 'empty view');
      app.stdin.write(key);
      const deadline = Date.now() + 2_000;
      while (quits === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(quits).toBe(1);
    }
  });
});
