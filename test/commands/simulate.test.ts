import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { simulate, type SimulateOptions } from '../../src/commands/simulate.js';
import type { CommandContext } from '../../src/core/context.js';
import { CoattailError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { systemClock } from '../../src/core/time.js';
import { TestClient } from '../helpers/simulator.js';
import { REPO_ROOT } from '../helpers/paths.js';

class Sink extends Writable {
  text = '';
  private waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    for (const w of [...this.waiters]) {
      if (w.re.test(this.text)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve();
      }
    }
    cb();
  }
  until(re: RegExp): Promise<void> {
    if (re.test(this.text)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ re, resolve }));
  }
}

const cwd = mkdtempSync(path.join(tmpdir(), 'coattail-simulate-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function context(): { ctx: CommandContext; stdout: Sink; stderr: Sink; abort: () => void } {
  const stdout = new Sink();
  const stderr = new Sink();
  const controller = new AbortController();
  const ctx: CommandContext = {
    stdout,
    stderr,
    env: {},
    clock: systemClock,
    logger: createLogger(stderr, { level: 'info' }),
    signal: controller.signal,
    cwd,
  };
  return { ctx, stdout, stderr, abort: () => controller.abort() };
}

const defaults: SimulateOptions = { port: '0', host: '127.0.0.1', scenario: 'default' };

describe('coattail simulate', () => {
  it('--list prints each built-in scenario with its description', async () => {
    const { ctx, stdout } = context();
    expect(await simulate({ ...defaults, list: true }, ctx)).toBe(0);
    const lines = stdout.text.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(['burst', 'default', 'faults', 'scripted', 'whales']);
    const whales = JSON.parse(readFileSync(path.join(REPO_ROOT, 'scenarios', 'whales.json'), 'utf8')) as { description: string };
    expect(lines[4]).toMatch(new RegExp(`^whales\\s+${whales.description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));

    const json = context();
    await simulate({ ...defaults, list: true, json: true }, json.ctx);
    const parsed = JSON.parse(json.stdout.text) as Array<{ name: string; description: string }>;
    expect(parsed.find((s) => s.name === 'whales')?.description).toBe(whales.description);
  });

  it('runs a bounded scenario file to the end: endpoints on stderr and as JSON, events logged, trades recorded', async () => {
    writeFileSync(
      path.join(cwd, 'short.json'),
      JSON.stringify({
        description: 'short',
        rate: 1000,
        tickMs: 5,
        totalTrades: 40,
        symbols: [{ symbol: 'BTC-USDT', startPrice: 65000 }],
        events: [{ atTrade: 10, type: 'whale', exchange: 'coinbase', symbol: 'BTC-USDT', side: 'buy', quoteVolume: 200000 }],
      }),
    );
    const { ctx, stdout, stderr } = context();
    const code = await simulate({ ...defaults, scenario: './short.json', seed: '5', json: true, record: 'out.jsonl' }, ctx);
    expect(code).toBe(0);
    const endpoints = JSON.parse(stdout.text) as Record<string, unknown>;
    expect(stdout.text.trim().split('\n')).toHaveLength(1); // stdout: one JSON object, nothing else
    expect(endpoints).toMatchObject({ host: '127.0.0.1', scenario: 'short', seed: 5, rate: 1000, symbols: ['BTC-USDT'] });
    expect(endpoints.binanceUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoints.coinbaseUrl).toBe(`${endpoints.binanceUrl as string}/coinbase`);
    expect(stderr.text).toContain(`Binance:  ${endpoints.binanceUrl as string}/stream?streams=btcusdt@trade`);
    expect(stderr.text).toContain(`Coinbase: ${endpoints.coinbaseUrl as string}`);
    expect(stderr.text).toMatch(/info\s+scenario event: whale .*quoteVolume=200000/);
    expect(stderr.text).toMatch(/scenario finished printed=40/);
    const recorded = readFileSync(path.join(cwd, 'out.jsonl'), 'utf8').trim().split('\n');
    expect(recorded).toHaveLength(2 + 40); // one initial trade per exchange, then the session
  });

  it('runs until the signal aborts, then closes the port', async () => {
    const { ctx, stdout, abort } = context();
    const running = simulate({ ...defaults, json: true, rate: '200' }, ctx);
    await stdout.until(/\n/);
    const { binanceUrl, rate, scenario } = JSON.parse(stdout.text) as { binanceUrl: string; rate: number; scenario: string };
    expect(rate).toBe(200);
    expect(scenario).toBe('default');
    // The default market waits for clients of all its symbols on both exchanges, then prints its history first.
    const client = await TestClient.connect(`${binanceUrl}/stream?streams=btcusdt@trade/ethusdt@trade/solusdt@trade`);
    const coinbase = await TestClient.connect(`${binanceUrl}/coinbase`);
    coinbase.send({ type: 'subscribe', product_ids: ['BTC-USDT', 'ETH-USDT', 'SOL-USDT'], channels: ['matches'] });
    await client.until(() => client.messages.some((m) => m.data !== undefined), 'a trade from the running simulator');
    await coinbase.close();
    abort();
    expect(await running).toBe(0);
    await client.closed;
    await expect(TestClient.connect(binanceUrl)).rejects.toThrow(/ECONNREFUSED/);
  });

  it.each([
    [{ port: 'abc' }, 'invalid --port abc'],
    [{ port: '70000' }, 'invalid --port 70000'],
    [{ seed: '-1' }, 'invalid --seed -1'],
    [{ seed: '1.5' }, 'invalid --seed 1.5'],
    [{ rate: '0' }, 'invalid --rate 0'],
    [{ rate: 'fast' }, 'invalid --rate fast'],
  ])('rejects bad options as usage errors: %o', async (bad, what) => {
    const { ctx } = context();
    const err = await simulate({ ...defaults, ...bad }, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    expect(err).toMatchObject({ what, exitCode: 2 });
  });

  it('names an unknown scenario and the built-in ones', async () => {
    const { ctx } = context();
    await expect(simulate({ ...defaults, scenario: 'nope' }, ctx)).rejects.toMatchObject({ what: 'unknown scenario "nope"' });
  });
});
