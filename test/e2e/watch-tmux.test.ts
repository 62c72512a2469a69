/**
 * The terminal view, run once for real: `coattail watch whales` in a detached tmux session of fixed
 * size (100x30), alerts put into dynalite, the screen read back with capture-pane, then q.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tempDir } from '../helpers/context.js';
import { dynamoClient, isoAt, newAlertsTable, putAlerts, whaleItem } from '../helpers/watch.js';
import { BIN } from '../helpers/paths.js';

const SOCKET = `coattail-watch-${process.pid}-${randomUUID().slice(0, 6)}`;
const SESSION = 'watch';

/**
 * The test's environment for tmux: colours on (no NO_COLOR), and CI set, as on a CI runner or in a
 * shell that exported it: the view must still draw live (ink alone would hold every frame until exit).
 */
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NO_COLOR' && k !== 'FORCE_COLOR')),
  CI: 'true',
};

function tmux(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8', env });
  if (r.error) {
    throw new Error(
      (r.error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'tmux is not installed: the terminal test of `coattail watch` needs it (apt-get install tmux)'
        : `tmux failed to run: ${r.error.message}`,
    );
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function screen(colours = false): string {
  return tmux('capture-pane', '-p', ...(colours ? ['-e'] : []), '-t', SESSION).stdout;
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen:\n${screen()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let client: DynamoDBClient;

beforeAll(() => {
  client = dynamoClient(inject('dynamoEndpoint'));
});
afterAll(() => {
  client.destroy();
  if (!spawnSync('tmux', ['-V']).error) tmux('kill-server');
});

describe('coattail watch whales in a real terminal', () => {
  it('shows alerts as they are written, coloured by side, and quits on q', async () => {
    expect(
      spawnSync('tmux', ['-V'], { encoding: 'utf8' }).error,
      'tmux is not installed: the terminal test of `coattail watch` needs it (apt-get install tmux)',
    ).toBeUndefined();
    const table = await newAlertsTable(client);
    const exitFile = path.join(tempDir('watch'), 'exit-code');
    const command = [
      process.execPath,
      BIN,
      'watch',
      'whales',
      '--dynamodb-endpoint',
      inject('dynamoEndpoint'),
      '--table',
      table,
      '--interval-ms',
      '200',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    const started = tmux('new-session', '-d', '-s', SESSION, '-x', '100', '-y', '30', `${command}; echo $? > '${exitFile}'`);
    expect(started.status, started.stderr).toBe(0);

    await until('the view to start', 30_000, () => (screen().includes('waiting for whales') ? true : undefined));
    const now = Date.now();
    await putAlerts(client, table, [
      whaleItem({
        alert_time: isoAt(now, -2_000),
        trade_id: 't1',
        symbol: 'BTC-USDT',
        side: 'buy',
        price: 60_000,
        quantity: 2.5,
        quote_volume: 150_000,
        threshold_multiple: 1.5,
      }),
      whaleItem({
        alert_time: isoAt(now, -1_000),
        trade_id: 't2',
        exchange: 'coinbase',
        symbol: 'ETH-USDT',
        side: 'sell',
        price: 3_012.5,
        quantity: 409.8,
        quote_volume: 1_234_567,
        threshold_multiple: 12.35,
      }),
    ]);
    const shown = await until('both rows on screen', 20_000, () => {
      const s = screen();
      return s.includes('BTC-USDT') && s.includes('ETH-USDT  sell') ? s : undefined;
    });
    const lines = shown.split('\n');
    const row = (symbol: string): string => lines.find((l) => l.includes(`${symbol}  `) && /^\d\d:\d\d:\d\d /.test(l)) ?? '';
    // Newest first: the ETH sell (1 s ago) above the BTC buy (2 s ago).
    expect(lines.indexOf(row('ETH-USDT'))).toBeLessThan(lines.indexOf(row('BTC-USDT')));
    expect(row('ETH-USDT')).toContain('coinbase ETH-USDT  sell   3,012.50      409.8   1,234,567 12.35x');
    expect(row('BTC-USDT')).toContain('binance  BTC-USDT  buy   60,000.00        2.5     150,000   1.5x');
    expect(shown).toContain('biggest 1,234,567 USDT ETH-USDT sell');
    expect(shown).toContain('2 shown of 2');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    const coloured = screen(true);
    expect(coloured).toContain('\u001b[32mbuy');
    expect(coloured).toContain('\u001b[31msell');

    tmux('send-keys', '-t', SESSION, 'q');
    const code = await until('the process to end after q', 10_000, () =>
      existsSync(exitFile) ? readFileSync(exitFile, 'utf8').trim() : undefined,
    );
    expect(code).toBe('0');
    await until('the session to close', 5_000, () => (tmux('has-session', '-t', SESSION).status !== 0 ? true : undefined));
  }, 150_000);
});
