/**
 * Numeric and duration options through the real binary: out of range is exit 2 and one line on stderr,
 * and a duration past Node's timer limit (2^31 − 1 ms, 24.8 days) is waited for, not cut to 1 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseScenario, startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { BIN } from '../helpers/paths.js';

const cwd = mkdtempSync(path.join(os.tmpdir(), 'coattail-ranges-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const running: { sims: SimulatorHandle[]; children: ChildProcess[] } = { sims: [], children: [] };
afterEach(async () => {
  for (const c of running.children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(running.sims.splice(0).map((s) => s.close()));
});

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('out-of-range options', () => {
  it.each([
    [['ingest', '--duration', '400d'], 'coattail: --duration 400d is out of range: it must be from 1s to 365d. Pass e.g. --duration 15m'],
    [
      ['ingest', '--duration', '2592000000'],
      'coattail: --duration 2592000000 is out of range: it must be from 1s to 365d. Pass e.g. --duration 15m',
    ],
    [
      ['ingest', '--duration', '15x'],
      "coattail: --duration '15x' is not a duration: write seconds (90) or a number with s, m, h or d (30s, 15m, 2h, 1d). Pass e.g. --duration 15m",
    ],
    [
      ['ingest', '--shutdown-timeout', '3000000'],
      'coattail: --shutdown-timeout 3000000 is out of range: it must be from 1s to 1h. Pass e.g. --shutdown-timeout 20s',
    ],
    [
      ['ingest', '--stats-interval', '3000000'],
      'coattail: --stats-interval 3000000 is out of range: it must be 0 (off) or from 0.1s to 1d. Pass e.g. --stats-interval 10s',
    ],
    [
      ['ingest', '--linger-ms', '3000000000'],
      'coattail: --linger-ms 3000000000 is out of range: it must be from 0 to 60000. Pass e.g. --linger-ms 100',
    ],
    [
      ['ingest', '--buffer-records', '5000000000'],
      'coattail: --buffer-records 5000000000 is out of range: it must be from 1 to 1000000. Pass e.g. --buffer-records 1000',
    ],
    [
      ['ingest', '--max-trades', '10000000000000'],
      'coattail: --max-trades 10000000000000 is out of range: it must be from 1 to 1000000000000. Pass e.g. --max-trades 1000',
    ],
    [
      ['watch', 'whales', '--interval-ms', '3000000000'],
      "coattail: --interval-ms '3000000000' is not valid: it must be a whole number from 50 to 3600000. Pass e.g. --interval-ms 50",
    ],
    [
      ['watch', 'whales', '--since', '200000000d'],
      'coattail: --since 200000000d is out of range: it must be from 1s to 365d. Pass e.g. --since 15m',
    ],
    [
      ['watch', 'whales', '--min-usd', '1e15'],
      'coattail: --min-usd 1e15 is out of range: it must be from 0 to 1000000000000. Pass e.g. --min-usd 250000',
    ],
    [
      ['tail', '--max', '10000000000000'],
      "coattail: --max '10000000000000' is not valid: it must be a whole number from 1 to 1000000000000. Pass e.g. --max 1",
    ],
    [
      ['tail', '--min-usd', '1e15'],
      'coattail: --min-usd 1e15 is out of range: it must be from 0 to 1000000000000. Pass e.g. --min-usd 100000',
    ],
    [['tail', '--from', '400d'], 'coattail: --from 400d is out of range: it must be from 1s to 365d. Pass e.g. --from 15m'],
    [['demo', '--duration', '400d'], 'coattail: --duration 400d is out of range: it must be from 1s to 365d. Pass e.g. --duration 3m'],
    [
      ['demo', '--start-timeout', '2d'],
      'coattail: --start-timeout 2d is out of range: it must be from 1s to 1h. Pass e.g. --start-timeout 4m',
    ],
    [
      ['demo', '--drain-timeout', '2h'],
      'coattail: --drain-timeout 2h is out of range: it must be from 1s to 1h. Pass e.g. --drain-timeout 1m',
    ],
    [['demo', '--watermark', '2d'], 'coattail: --watermark 2d is out of range: it must be from 0s to 1d. Pass e.g. --watermark 10s'],
    [
      ['local', 'peek', '--last', '20000'],
      "coattail: --last '20000' is not valid: it must be a whole number from 0 to 10000. Pass e.g. --last 0",
    ],
    // What commander itself refuses: the same one line and exit 2.
    [
      ['ingest', '--sink', 'nope'],
      "coattail: option '--sink <sink>' argument 'nope' is invalid. Allowed choices are kinesis, stdout. Run with --help for usage",
    ],
    [['ingest', '--bogus'], "coattail: unknown option '--bogus'. Run with --help for usage"],
    [['no-such-command'], "coattail: unknown command 'no-such-command'. Run with --help for usage"],
    [['ingest', '--max-trade', '1'], "coattail: unknown option '--max-trade' (Did you mean --max-trades?). Run with --help for usage"],
    [['ingets'], "coattail: unknown command 'ingets' (Did you mean ingest?). Run with --help for usage"],
  ])('%j: exit 2, one line', async (args, line) => {
    const r = await run(args);
    expect(r.stderr.split('\n')).toEqual([line, '']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
  });

  it('reads the range-checked value from the environment too', async () => {
    const r = await run(['ingest'], { COATTAIL_DURATION: '400d' });
    expect(r.stderr.split('\n')).toEqual([
      'coattail: --duration 400d is out of range: it must be from 1s to 365d. Pass e.g. --duration 15m',
      '',
    ]);
    expect(r.code).toBe(2);
  });

  it('tail reads its range-checked values from the environment', async () => {
    const r = await run(['tail'], { COATTAIL_TAIL_FROM: 'sometime' });
    expect(r.stderr.split('\n')).toEqual([
      "coattail: --from 'sometime' is not a position: it is latest, trim-horizon, an ISO time or a look-back. Pass e.g. --from trim-horizon, --from 2026-01-15T09:30:00Z or --from 15m",
      '',
    ]);
    expect(r.code).toBe(2);
  });

  it('tail refuses a --from time without its zone, whatever the zone of the machine', async () => {
    const r = await run(['tail', '--from', '2026-01-15T09:30:00'], { TZ: 'America/New_York' });
    expect(r.stderr.split('\n')).toEqual([
      "coattail: --from '2026-01-15T09:30:00' is a time without its zone: it would be read in the zone of the machine that runs the tail. Write it like 2026-01-15T09:30:00Z or 2026-01-15T10:30:00+01:00 (a bare date 2026-01-15 is midnight UTC)",
      '',
    ]);
    expect(r.code).toBe(2);
  });
});

describe('a duration past the timer limit', () => {
  it('ingest --duration 2592000 (30 days) is still reading seconds later, and stops on SIGTERM', async () => {
    const sim = await startSimulator({ scenario: parseScenario({ rate: 50, symbols: [{ symbol: 'BTC-USDT', startPrice: 65000 }] }) });
    running.sims.push(sim);
    const child = spawn(
      process.execPath,
      [
        BIN,
        'ingest',
        '--sink',
        'stdout',
        '--json',
        '--symbols',
        'BTC-USDT',
        '--binance-url',
        sim.binanceUrl,
        '--coinbase-url',
        sim.coinbaseUrl,
        '--stats-interval',
        '0',
        '--duration',
        '2592000',
      ],
      { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.children.push(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

    // A trade read 3 s after the first one: the run did not end at once.
    const readFor = 3_000;
    await new Promise<void>((resolve, reject) => {
      let first: number | undefined;
      child.stdout.on('data', () => {
        const now = Date.now();
        first ??= now;
        if (now - first >= readFor) resolve();
      });
      void closed.then((code) => reject(new Error(`ingest ended (exit ${code}) before reading for ${readFor} ms:\n${stderr}`)));
    });
    expect(child.exitCode).toBeNull();

    child.kill('SIGTERM');
    expect(await closed).toBe(0);
    const summary = JSON.parse(stderr.trim().split('\n').at(-1)!) as { stop_reason: string; received: number };
    expect(summary.stop_reason).toBe('signal');
    expect(summary.received).toBeGreaterThan(0);
  });
});
