import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CoattailError } from '../../src/core/errors.js';
import { listScenarios, loadScenario, parseScenario } from '../../src/simulator/scenario-loader.js';
import type { ScenarioEvent } from '../../src/simulator/scenario.js';
import { REPO_ROOT } from '../helpers/paths.js';

const repoScenarios = path.join(REPO_ROOT, 'scenarios');
const tmp = mkdtempSync(path.join(tmpdir(), 'coattail-scenario-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeScenario(name: string, body: unknown): string {
  const file = path.join(tmp, name);
  writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
  return file;
}

function errorOf(fn: () => unknown): CoattailError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CoattailError) return err;
    throw err;
  }
  throw new Error('expected a CoattailError');
}

const minimal = { rate: 10, symbols: [{ symbol: 'BTC-USDT', startPrice: 65000 }] };

describe('built-in scenarios', () => {
  it('lists every file in scenarios/ with its description', () => {
    const listed = listScenarios();
    expect(listed.map((s) => s.name)).toEqual(['burst', 'default', 'faults', 'scripted', 'whales']);
    for (const s of listed) {
      const raw = JSON.parse(readFileSync(path.join(repoScenarios, `${s.name}.json`), 'utf8')) as { description: string };
      expect(s.description).toBe(raw.description);
      expect(s.description.length).toBeGreaterThan(20);
    }
  });

  it('default: three USDT symbols on both exchanges, 20 trades/s after 12 minutes of history, whales, a spike, a ~1 % dislocation and a disconnect in the first minute, unbounded', () => {
    const s = loadScenario('default');
    expect(s.name).toBe('default');
    expect(s.exchanges).toEqual(['binance', 'coinbase']);
    expect(s.symbols.map((m) => m.symbol)).toEqual(['BTC-USDT', 'ETH-USDT', 'SOL-USDT']);
    expect(s.rate).toBe(20);
    // 12 minutes of history (≥ 10 full 60-s windows before the open: the anomaly baseline), printed in 16 s.
    expect(s.history).toEqual({ seconds: 720, rate: 900 });
    expect(s.waitForClients).toBe(true);
    expect(s.totalTrades).toBeUndefined();
    expect(s.durationSeconds).toBeUndefined();
    const of = <T extends ScenarioEvent['type']>(type: T): Array<Extract<ScenarioEvent, { type: T }>> =>
      s.events.filter((e): e is Extract<ScenarioEvent, { type: T }> => e.type === type);
    expect(of('whale').filter((w) => w.quoteVolume > 100_000).length).toBeGreaterThanOrEqual(3);
    expect(of('volume_spike').some((v) => (v.at ?? Infinity) <= 60)).toBe(true);
    expect(of('dislocation').some((d) => Math.abs(d.pct) >= 0.9 && Math.abs(d.pct) <= 1.5 && (d.at ?? Infinity) <= 60)).toBe(true);
    // A one-second cut of both exchanges in the first minute: the demo shows its gaps backfilled.
    expect(of('disconnect').filter((d) => d.exchange === undefined && (d.at ?? Infinity) <= 60)).toEqual([
      { type: 'disconnect', at: 30, downSeconds: 1 },
    ]);
    // Ordinary trades stay under the whale threshold, so only the scripted whales alert.
    expect(s.maxNotional).toBeLessThanOrEqual(100_000);
  });

  it('faults has every kind of fault; whales has whales; burst runs at 20,000 trades/s', () => {
    const types = new Set(loadScenario('faults').events.map((e) => e.type));
    for (const t of ['disconnect', 'server_shutdown', 'silence', 'malformed']) expect(types).toContain(t);
    expect(loadScenario('whales').events.filter((e) => e.type === 'whale').length).toBeGreaterThanOrEqual(10);
    const burst = loadScenario('burst');
    expect(burst.rate).toBe(20_000);
    expect(burst.events).toEqual([]);
  });
});

describe('scenario files', () => {
  it('loads a file by path, fills defaults and names it after the file', () => {
    const file = writeScenario('mine.json', minimal);
    const s = loadScenario(file);
    expect(s.name).toBe('mine');
    expect(s.exchanges).toEqual(['binance', 'coinbase']);
    expect(s.binance).toEqual({ pingIntervalMs: 20_000, pongTimeoutMs: 60_000, maxConnectionAgeMs: 86_400_000 });
    expect(s.coinbase.subscribeTimeoutMs).toBe(5_000);
    expect(s.coinbase.heartbeatIntervalMs).toBe(1_000);
    expect(s.waitForClients).toBe(false);
    expect(s.symbols[0]).toMatchObject({ priceDecimals: 2, weight: 1 });
    // Relative paths resolve against the given working directory.
    expect(loadScenario('./mine.json', { cwd: tmp }).name).toBe('mine');
  });

  it.each([
    ['a wrong type', { ...minimal, rate: 'fast' }, /rate: .*expected number/],
    ['a missing field', { symbols: minimal.symbols }, /rate: /],
    [
      'a symbol without its dash',
      { rate: 10, symbols: [{ symbol: 'FOOUSDT', startPrice: 1 }] },
      /symbols\[0\]\.symbol: expected a BASE-QUOTE symbol in upper case/,
    ],
    [
      'two symbols Binance would name alike',
      {
        rate: 10,
        symbols: [
          { symbol: 'AR-BUSD', startPrice: 1 },
          { symbol: 'ARB-USD', startPrice: 1 },
        ],
      },
      /symbols\[1\]\.symbol: ARB-USD and AR-BUSD are both ARBUSD on Binance/,
    ],
    ['an unknown key', { ...minimal, speed: 3 }, /speed/],
    [
      'an event field',
      { ...minimal, events: [{ at: 1, type: 'whale', exchange: 'binance', symbol: 'BTC-USDT', side: 'buy', quoteVolume: 'big' }] },
      /events\[0\]\.quoteVolume: /,
    ],
    [
      'an event on a symbol the scenario lacks',
      { ...minimal, events: [{ at: 1, type: 'volume_spike', symbol: 'ETH-USDT', multiplier: 2, durationSeconds: 1 }] },
      /events\[0\]\.symbol: ETH-USDT is not one of the scenario's symbols/,
    ],
    [
      'an event with both at and atTrade',
      { ...minimal, events: [{ at: 1, atTrade: 5, type: 'disconnect' }] },
      /events\[0\]: give exactly one of "at" \(seconds\) or "atTrade"/,
    ],
    ['an event with neither', { ...minimal, events: [{ type: 'disconnect' }] }, /events\[0\]: give exactly one/],
    ['an unknown event type', { ...minimal, events: [{ at: 1, type: 'meteor' }] }, /events\[0\]\.type: /],
    [
      'server_shutdown without binance',
      { ...minimal, exchanges: ['coinbase'], events: [{ at: 1, type: 'server_shutdown' }] },
      /events\[0\]\.type: server_shutdown is a Binance event/,
    ],
  ])('names the field on %s', (_what, body, pattern) => {
    const file = writeScenario('bad.json', body);
    const err = errorOf(() => loadScenario(file));
    expect(err.what).toBe(`invalid scenario ${file}`);
    expect(err.why).toMatch(pattern);
    expect(err.line()).not.toContain('\n');
    expect(err.fix).toMatch(/scenarios\/default\.json/);
  });

  it('says the file is not JSON', () => {
    const file = writeScenario('broken.json', '{"rate": 10,');
    const err = errorOf(() => loadScenario(file));
    expect(err.why).toMatch(/^not valid JSON/);
    expect(err.line()).not.toContain('\n');
  });

  it('says a path does not exist, and lists the built-in names for an unknown name', () => {
    expect(errorOf(() => loadScenario(path.join(tmp, 'nope.json'))).why).toBe(`no such file: ${path.join(tmp, 'nope.json')}`);
    const err = errorOf(() => loadScenario('nope'));
    expect(err.what).toBe('unknown scenario "nope"');
    expect(err.fix).toContain('burst, default, faults, scripted, whales');
  });

  it('validates objects too (parseScenario), counting further problems', () => {
    const err = errorOf(() => parseScenario({ rate: -1, symbols: [] }, 'inline'));
    expect(err.what).toBe('invalid scenario inline');
    expect(err.why).toMatch(/^rate: .* \(and 1 more problem\)$/);
  });
});
