/**
 * Fault: the Kinesis emulator is stopped for 20 seconds and started again, mid-stream. The `coattail ingest`
 * binary must hold what it accepted, push back on the exchanges once its buffer is full (it stops reading
 * rather than growing), and deliver every accepted trade once the emulator is back: none lost, none twice.
 *
 * The emulator persists its streams to a folder (kinesis-mock's persistence, every second), so a restart
 * keeps what it had. It is killed during a few seconds of market silence: by then every record it
 * acknowledged has been persisted, so a record missing afterwards could only be the producer's fault.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { readStreamRecords } from '../../src/kinesis/read-stream.js';
import { userRecords } from '../../src/kinesis/user-records.js';
import { freePort, spawnKinesisEmulator, stopProcess, waitForPort } from '../../src/local/processes.js';
import { ensureStream } from '../../src/local/resources.js';
import { parseScenario, startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { waitFor } from '../helpers/context.js';
import { BIN } from '../helpers/paths.js';

const OUTAGE_MS = 20_000;
const BUFFER_RECORDS = 300;

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface StatsLine {
  at: number;
  received: number;
  sent: number;
  buffered: number;
}

async function startEmulator(port: number, tlsPort: number, persistDir: string): Promise<ChildProcess> {
  const child = spawnKinesisEmulator({ port, tlsPort, persistDir });
  await waitForPort(port, '127.0.0.1', 60_000);
  return child;
}

describe('the Kinesis emulator stopped for 20 s mid-stream', () => {
  it('ingest holds, pushes back, then delivers every accepted trade exactly once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'coattail-kinesis-restart-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const [port, tlsPort] = [await freePort(), await freePort()];
    const endpoint = `http://127.0.0.1:${port}`;
    let emulator = await startEmulator(port, tlsPort, dir);
    cleanup.push(() => stopProcess(emulator.pid!, 250));
    const stream = 'restart';
    const client = createKinesisClient({ endpoint }, {});
    await ensureStream(client, stream, 2);

    // 100 trades/s for 50 s; 8 s of silence from second 4 (trades still print and are missed: gaps), in
    // which the producer drains, the emulator persists and is stopped. (Longer, and Coinbase's watchdog, 10 s
    // without a heartbeat, would reconnect into the silence.)
    const SILENCE_MS = 8_000;
    const scenario = parseScenario({
      symbols: [
        { symbol: 'BTC-USDT', startPrice: 65000 },
        { symbol: 'ETH-USDT', startPrice: 3200 },
      ],
      rate: 100,
      totalTrades: 5000,
      waitForClients: true,
      events: [{ at: 4, type: 'silence', durationSeconds: SILENCE_MS / 1000 }],
    });
    const sim: SimulatorHandle = await startSimulator({ scenario, seed: 3 });
    cleanup.push(() => sim.close());

    const ingest = spawn(
      process.execPath,
      [
        BIN,
        'ingest',
        '--json',
        '--stream',
        stream,
        '--binance-url',
        sim.binanceUrl,
        '--coinbase-url',
        sim.coinbaseUrl,
        '--symbols',
        'BTC-USDT,ETH-USDT',
        '--buffer-records',
        String(BUFFER_RECORDS),
        '--stats-interval',
        '1',
        '--shutdown-timeout',
        '60',
      ],
      {
        env: { ...process.env, COATTAIL_KINESIS_ENDPOINT: endpoint, COATTAIL_LOG_FORMAT: 'json', NO_COLOR: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    cleanup.push(() => {
      if (ingest.exitCode === null) ingest.kill('SIGKILL');
    });
    let stderr = '';
    ingest.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => ingest.on('exit', (code) => resolve(code)));
    const stats = (): StatsLine[] =>
      stderr
        .split('\n')
        .filter((l) => l.includes('"msg":"stats"'))
        .map((l) => {
          const line = JSON.parse(l) as Omit<StatsLine, 'at'> & { time: string };
          return { at: Date.parse(line.time), received: line.received, sent: line.sent, buffered: line.buffered };
        });

    // Everything received so far acknowledged, in a stats line printed after `since`, with nothing more coming in.
    const settledAfter = (since: number): boolean => {
      const lines = stats().filter((l) => l.at > since);
      const last = lines.slice(-3);
      return last.length === 3 && last.every((l) => l.buffered === 0 && l.sent === l.received && l.received === last[0]!.received);
    };
    // The emulator rewrites its data file in place every second: a write is over once the file parses.
    const dataFile = path.join(dir, 'kinesis-data.json');
    const persisted = (): number => statSync(dataFile).mtimeMs;
    const whole = (): boolean => {
      try {
        JSON.parse(readFileSync(dataFile, 'utf8'));
        return true;
      } catch {
        return false;
      }
    };

    const silence = new Promise<void>((resolve) => sim.onEvent((e) => e.event.type === 'silence' && resolve()));
    await silence;
    const silentAt = Date.now();
    // What was in flight when the silence began has arrived a second later; then all of it acknowledged.
    await waitFor(
      () => stats().some((l) => l.at > silentAt + 1_000 && l.buffered === 0 && l.sent === l.received),
      SILENCE_MS,
      'the producer to drain in the silence',
    );
    // The emulator persists every second: two writes after the drain, and the second began after it.
    const drained = persisted();
    await waitFor(() => persisted() > drained && whole(), 30_000, 'a persist after the drain');
    const once = persisted();
    await waitFor(() => persisted() > once && whole(), 30_000, 'a second persist after the drain');
    // Still in the silence, so nothing was acknowledged after that persist began.
    expect(Date.now() - silentAt, 'the silence ended before the emulator was stopped').toBeLessThan(SILENCE_MS);
    await stopProcess(emulator.pid!, 0); // SIGKILL: kinesis-local ignores SIGTERM
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const duringOutage = stats().filter((s) => s.at > downAt + 2_000);
    emulator = await startEmulator(port, tlsPort, dir);

    await sim.done;
    // The producer catches up (its backoff is capped at 10 s; the paused sockets are read again), then it
    // is stopped: it flushes and reports.
    const doneAt = Date.now();
    await waitFor(() => settledAfter(doneAt), 120_000, 'the producer to catch up after the outage');
    ingest.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    const summary = JSON.parse(stderr.trim().split('\n').at(-1)!) as { received: number; sent: number; failed: number; retried: number };

    // Held and pushed back: nothing was sent while the emulator was down, the buffer stopped at its mark
    // (a paused socket's last frame may land on top), and reading stopped instead of growing the buffer.
    expect(duringOutage.length).toBeGreaterThan(10);
    expect(new Set(duringOutage.map((s) => s.sent)).size).toBe(1);
    expect(Math.max(...duringOutage.map((s) => s.buffered))).toBeGreaterThanOrEqual(BUFFER_RECORDS);
    expect(Math.max(...duringOutage.map((s) => s.buffered))).toBeLessThan(BUFFER_RECORDS + 50);
    const lastTen = duringOutage.slice(-10).map((s) => s.received);
    expect(new Set(lastTen).size).toBe(1);
    expect(summary.retried).toBeGreaterThan(0);

    // Then delivered everything it accepted, once.
    expect(summary.failed).toBe(0);
    expect(summary.sent).toBe(summary.received);
    const trades = userRecords(await readStreamRecords(client, stream)).map(
      (u) => JSON.parse(Buffer.from(u.data).toString('utf8')) as UnifiedTrade,
    );
    const ids = trades.map((t) => t.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(summary.received);
    expect(summary.received).toBeGreaterThan(3000);
  }, 300_000);
});
