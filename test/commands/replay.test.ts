import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replay, replayArgs, type ReplayOptions } from '../../src/commands/replay.js';
import { CoattailError } from '../../src/core/errors.js';
import { testContext } from '../helpers/context.js';
import { packageRoot } from '../../src/core/dirs.js';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coattail-replay-'));
  tempDirs.push(dir);
  return dir;
}

function trade(id: string, price: number, quantity: number, time: string): string {
  return JSON.stringify({
    schema_version: 1,
    event_id: `binance:BTC-USDT:${id}`,
    exchange: 'binance',
    symbol: 'BTC-USDT',
    trade_id: id,
    price,
    quantity,
    quote_volume: price * quantity,
    side: 'buy',
    timestamp: `2024-01-01T${time}Z`,
    ingested_at: `2024-01-01T${time}Z`,
  });
}

async function failure(opts: ReplayOptions, env: NodeJS.ProcessEnv = process.env): Promise<CoattailError> {
  const err = await replay(opts, testContext({ env: { ...env } })).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CoattailError);
  return err as CoattailError;
}

describe('coattail replay arguments', () => {
  const dir = tempDir();
  const recording = path.join(dir, 'trades.jsonl');
  writeFileSync(recording, `${trade('1', 60_000, 2.5, '00:00:01.000')}\n`);
  mkdirSync(path.join(dir, 'a-folder'));

  it.each([
    [
      { job: 'whale-detektor', input: recording, out: dir },
      "coattail: unknown job 'whale-detektor': replay runs raw-archiver, volume-anomaly, whale-detector, spread-calculator. Pass one of them, e.g. coattail replay whale-detector --input trades.jsonl --out backtest",
    ],
    [
      { job: 'whale-detector', out: dir },
      'coattail: --input is missing: replay reads a recording of unified trades. Pass --input trades.jsonl (coattail ingest --sink stdout > trades.jsonl records one)',
    ],
    [
      { job: 'whale-detector', input: path.join(dir, 'nope.jsonl'), out: dir },
      `coattail: --input ${path.join(dir, 'nope.jsonl')} not found: no such file ${path.join(dir, 'nope.jsonl')}. Pass a recording of unified trades, one JSON object a line`,
    ],
    [
      { job: 'whale-detector', input: path.join(dir, 'a-folder'), out: dir },
      `coattail: --input ${path.join(dir, 'a-folder')} is not a file: ${path.join(dir, 'a-folder')} is a folder. Pass the recording file itself`,
    ],
    [
      { job: 'whale-detector', input: recording, out: recording },
      `coattail: --out ${recording} is a file: replay writes several files into a folder. Pass a folder (created if missing)`,
    ],
    [
      { job: 'whale-detector', input: recording, out: dir, set: ['threshold'] },
      "coattail: --set 'threshold' is not NAME=VALUE: a setting names a job setting and its value. Write it like --set threshold=3.0",
    ],
  ])('rejects %j with one line and exit code 2', async (opts, line) => {
    const err = await failure(opts);
    expect(err.line()).toBe(line);
    expect(err.line()).not.toContain('\n');
    expect(err.exitCode).toBe(2);
  });

  it('fails with one line when COATTAIL_PYTHON cannot be run', async () => {
    const err = await failure(
      { job: 'whale-detector', input: recording, out: path.join(dir, 'out') },
      { ...process.env, COATTAIL_PYTHON: path.join(dir, 'no-python') },
    );
    expect(err.line()).toMatch(
      /^coattail: cannot run .*no-python: .*ENOENT.*\. Set COATTAIL_PYTHON to a Python with coattail_jobs installed/,
    );
  });

  it('runs python -m coattail_jobs replay with an argument array, each setting its own --set', () => {
    expect(replayArgs('volume-anomaly', '/d/t.jsonl', '/d/out dir', ['threshold=3.0', 'watermark=5 minutes'], true)).toEqual([
      '-m',
      'coattail_jobs',
      'replay',
      'volume-anomaly',
      '--input',
      '/d/t.jsonl',
      '--out',
      '/d/out dir',
      '--set',
      'threshold=3.0',
      '--set',
      'watermark=5 minutes',
      '--json',
    ]);
  });
});

describe('coattail replay runs the Python replay', () => {
  const venv = path.join(packageRoot(), 'jobs-py', '.venv', 'bin', 'python');

  it('writes the whale-detector files and passes the exit status through', { timeout: 300_000 }, async () => {
    expect(existsSync(venv), 'the jobs need their Python environment: run make install-py').toBe(true);
    const dir = tempDir();
    const recording = path.join(dir, 'trades.jsonl');
    // 60,000 x 2.5 = 150,000: a whale (1.5x the 100,000 threshold); 60,000 x 0.1 = 6,000: not; a broken line.
    writeFileSync(recording, [trade('1', 60_000, 2.5, '00:00:01.000'), trade('2', 60_000, 0.1, '00:00:02.000'), '{oops'].join('\n') + '\n');
    const ctx = testContext({ cwd: dir });
    const code = await replay(
      { job: 'whale-detector', input: 'trades.jsonl', out: 'backtest', set: ['watermark=1 minute'], json: true },
      ctx,
    );
    expect(code, ctx.err.text()).toBe(0);

    const rows = (name: string): Record<string, unknown>[] =>
      readFileSync(path.join(dir, 'backtest', name), 'utf8')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows('whale_trades.jsonl')).toEqual([
      expect.objectContaining({
        alert_id: 'whale:binance:BTC-USDT:1',
        quote_volume: 150_000,
        threshold: 100_000,
        threshold_multiple: 1.5,
        trade_time: '2024-01-01T00:00:01.000Z',
      }),
    ]);
    expect(rows('alerts.jsonl')).toEqual([expect.objectContaining({ alert_id: 'whale:binance:BTC-USDT:1', alert_type: 'whale' })]);
    expect(rows('dlq.jsonl')).toEqual([{ reason: 'malformed', checks_failed: ['malformed'], record: '{oops' }]);

    const summary = JSON.parse(ctx.out.text()) as Record<string, unknown>;
    expect(summary).toMatchObject({
      job: 'whale-detector',
      records: 3,
      late_dropped: 0,
      outputs: { 'whale_trades.jsonl': 1, 'alerts.jsonl': 1, 'dlq.jsonl': 1 },
    });
    expect(summary.settings).toMatchObject({ watermark: '1 minute', whale_threshold: 100_000 });
    expect(ctx.err.text()).toContain(`replay whale-detector: 1 row in ${path.join(dir, 'backtest', 'whale_trades.jsonl')}`);

    // A bad setting: the Python side's one line, and its status 2.
    const bad = testContext({ cwd: dir });
    expect(await replay({ job: 'whale-detector', input: 'trades.jsonl', out: 'backtest', set: ['treshold=1'] }, bad)).toBe(2);
    expect(bad.err.lines()).toEqual([
      "replay: unknown setting 'treshold' for whale-detector: it takes threshold, whale_threshold, watermark, symbols, trigger, history_trigger",
    ]);
  });
});
