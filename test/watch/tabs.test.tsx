/** The live view with several kinds: switching (tab, shift-tab, 1/2/3), each kind with its own rows, header and keys. */
import { render, cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAlert, type WatchAlert } from '../../src/watch/alerts.js';
import { AlertFeed } from '../../src/watch/feed.js';
import { WATCH_KINDS } from '../../src/watch/kinds.js';
import { WatchApp } from '../../src/watch/WatchApp.js';
import { anomalyItem, isoAt, spreadItem, whaleItem, type Plain } from '../helpers/watch.js';

const NOW = Date.parse('2024-05-01T12:00:00.000Z');
const TAB = '\t';
const SHIFT_TAB = '\u001b[Z';

afterEach(cleanup);

function alert(item: Plain): WatchAlert {
  const parsed = parseAlert(item.alert_type as WatchAlert['alert_type'], item);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.alert;
}

async function frame(app: ReturnType<typeof render>, check: (f: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const f = app.lastFrame() ?? '';
    if (check(f)) return f;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last frame:\n${f}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function mount(onQuit?: () => void): { app: ReturnType<typeof render>; feed: AlertFeed } {
  const feed = new AlertFeed();
  const app = render(
    <WatchApp
      kind="whales"
      kinds={WATCH_KINDS}
      feed={feed}
      settings={{ since: '5m', symbols: [], minUsd: undefined }}
      color={false}
      now={() => NOW}
      tickMs={60_000}
      onQuit={onQuit}
    />,
  );
  return { app, feed };
}

// One whale, two anomalies (one detected within the last minute), one spread: each kind's own figures.
const whale = alert(
  whaleItem({ alert_time: isoAt(NOW, -10_500), detected_at: isoAt(NOW, -10_000), quote_volume: 150_000, trade_id: 'w1' }),
);
const anomalies = [
  alert(anomalyItem({ alert_time: isoAt(NOW, -20_000), z_score: 7.25 })),
  alert(anomalyItem({ alert_time: isoAt(NOW, -90_000), exchange: 'coinbase', z_score: 3.5 })),
];
const spread = alert(
  spreadItem({ alert_time: isoAt(NOW, -30_000), symbol: 'ETH-USDT', spread_pct: 0.98, high_exchange: 'coinbase', low_exchange: 'binance' }),
);

describe('WatchApp with several kinds', () => {
  it('sorts alerts into their kinds; tab, shift-tab and 1/2/3 switch, each kind with its own header', async () => {
    const { app, feed } = mount();
    // One push with every kind in it, as the poller group delivers them.
    feed.push([spread, whale, ...anomalies]);
    const whales = await frame(app, (t) => t.includes('1 shown of 1'), 'whales');
    const lines = whales.split('\n');
    expect(lines[0]).toBe('[1 WHALES 1]   2 anomalies 2    3 spreads 1');
    expect(lines[1]).toBe('WHALES · 1 alerts/min · biggest 150,000 USDT BTC-USDT buy · LIVE');
    expect(lines[2]).toBe('since 5m · symbols all · 1 shown of 1 · times UTC');
    expect(whales).toContain('tab/1-3 switch · p pause');

    app.stdin.write(TAB);
    const anomaliesFrame = await frame(app, (t) => t.includes('[2 ANOMALIES 2]'), 'anomalies');
    // Two received, one detected in the last minute; the highest z is 7.25.
    expect(anomaliesFrame.split('\n')[1]).toBe('ANOMALIES · 1 alerts/min · highest z 7.25 BTC-USDT binance · LIVE');
    expect(anomaliesFrame.split('\n')[2]).toBe('since 5m · symbols all · 2 shown of 2 · times UTC');
    expect(anomaliesFrame).toContain('volume');
    expect(anomaliesFrame).not.toContain('notional');

    app.stdin.write('3');
    const spreads = await frame(app, (t) => t.includes('[3 SPREADS 1]'), 'spreads');
    expect(spreads.split('\n')[1]).toBe('SPREADS · 1 alerts/min · widest 0.98% ETH-USDT coinbase>binance · LIVE');
    expect(spreads).toContain('ETH-USDT  coinbase');

    app.stdin.write(TAB); // from the last back to the first
    await frame(app, (t) => t.includes('[1 WHALES 1]'), 'whales again');
    app.stdin.write(SHIFT_TAB); // and backwards from the first to the last
    await frame(app, (t) => t.includes('[3 SPREADS 1]'), 'spreads by shift-tab');
    app.stdin.write('1');
    await frame(app, (t) => t.includes('[1 WHALES 1]'), 'whales by 1');
  });

  it('keeps pause and filter per kind; digits typed into a filter are text, not switches', async () => {
    let quits = 0;
    const { app, feed } = mount(() => (quits += 1));
    feed.push([whale, ...anomalies]);
    await frame(app, (t) => t.includes('1 shown of 1'), 'whales');
    app.stdin.write('p');
    await frame(app, (t) => t.includes('PAUSED (0 new)'), 'whales paused');
    app.stdin.write('2');
    const anomaliesFrame = await frame(app, (t) => t.includes('[2 ANOMALIES 2]'), 'anomalies');
    expect(anomaliesFrame).toContain('LIVE'); // the pause was the whales' only
    app.stdin.write('/');
    await frame(app, (t) => t.includes('filter symbol: _'), 'prompt');
    app.stdin.write('3');
    await frame(app, (t) => t.includes('filter symbol: 3_'), 'a digit typed as text');
    expect(app.lastFrame()).toContain('[2 ANOMALIES 2]');
    app.stdin.write('\u001b'); // esc: the filter is cleared
    await frame(app, (t) => t.includes('tab/1-3 switch'), 'prompt gone');
    app.stdin.write('1');
    await frame(app, (t) => t.includes('[1 WHALES 1]') && t.includes('PAUSED (0 new)'), 'whales still paused');
    // New alerts of another kind do not count as missed by the paused whales.
    feed.push([alert(anomalyItem({ alert_time: isoAt(NOW, -5_000), symbol: 'SOL-USDT', z_score: 4 }))]);
    await frame(app, (t) => t.includes('2 anomalies 3'), 'the third anomaly counted in its tab');
    expect(app.lastFrame()).toContain('PAUSED (0 new)');
    app.stdin.write('q');
    const deadline = Date.now() + 2_000;
    while (quits === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(quits).toBe(1);
  });

  it('shows no tabs and takes no switch keys with one kind', async () => {
    const feed = new AlertFeed();
    const app = render(
      <WatchApp
        kind="spreads"
        feed={feed}
        settings={{ since: '5m', symbols: [], minUsd: undefined }}
        color={false}
        now={() => NOW}
        tickMs={60_000}
      />,
    );
    feed.push([spread]);
    const f = await frame(app, (t) => t.includes('1 shown of 1'), 'spreads');
    expect(f.split('\n')[0]).toBe('SPREADS · 1 alerts/min · widest 0.98% ETH-USDT coinbase>binance · LIVE');
    expect(f).not.toContain('tab/1-3');
    app.stdin.write('1');
    app.stdin.write(TAB);
    await new Promise((r) => setTimeout(r, 50));
    expect(app.lastFrame()!.split('\n')[0]).toContain('SPREADS');
  });
});
