/**
 * The real thing end to end: the market simulator → the `coattail ingest` binary (a child process)
 * → the Kinesis emulator, read back and compared with what the simulator printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { readStreamRecords } from '../../src/kinesis/read-stream.js';
import { userRecords } from '../../src/kinesis/user-records.js';
import { ensureStream } from '../../src/local/resources.js';
import { parseScenario, startSimulator, type PrintedTrade, type SimulatorHandle } from '../../src/simulator/index.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { BIN } from '../helpers/paths.js';

const SYMBOLS = ['BTC-USDT', 'ETH-USDT', 'SOL-USDT'];

const running: { sims: SimulatorHandle[]; children: ChildProcess[] } = { sims: [], children: [] };
afterEach(async () => {
  for (const c of running.children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(running.sims.splice(0).map((s) => s.close()));
});

function market(extra: Record<string, unknown>) {
  return parseScenario({
    symbols: [
      { symbol: 'BTC-USDT', startPrice: 65000 },
      { symbol: 'ETH-USDT', startPrice: 3200 },
      { symbol: 'SOL-USDT', startPrice: 150 },
    ],
    waitForClients: true,
    ...extra,
  });
}

async function freshStream(name: string): Promise<ReturnType<typeof createKinesisClient>> {
  const client = createKinesisClient({ endpoint: inject('kinesisEndpoint') }, {});
  await ensureStream(client, name, 2);
  return client;
}

interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function ingestProcess(sim: SimulatorHandle, stream: string, extra: string[] = []): Child {
  const proc = spawn(
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
      '--binance-rest-url',
      sim.binanceRestUrl,
      '--coinbase-rest-url',
      sim.coinbaseRestUrl,
      '--symbols',
      SYMBOLS.join(','),
      '--stats-interval',
      '0',
      ...extra,
    ],
    { env: { ...process.env, COATTAIL_KINESIS_ENDPOINT: inject('kinesisEndpoint'), NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.children.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, stdout: () => out, stderr: () => err, exit };
}

const eventId = (p: PrintedTrade) => `${p.exchange}:${p.symbol}:${p.tradeId}`;

async function tradesInStream(
  client: ReturnType<typeof createKinesisClient>,
  stream: string,
): Promise<Array<{ key: string; aggregated: boolean; trade: UnifiedTrade }>> {
  const records = await readStreamRecords(client, stream);
  return userRecords(records).map((u) => ({
    key: u.partitionKey,
    aggregated: u.aggregated,
    trade: JSON.parse(Buffer.from(u.data).toString('utf8')) as UnifiedTrade,
  }));
}

/** Field by field against the simulator's ground truth, worked out from the printed decimals. */
function expectMatchesPrint(t: UnifiedTrade, p: PrintedTrade): void {
  expect(t.exchange).toBe(p.exchange);
  expect(t.symbol).toBe(p.symbol);
  expect(t.trade_id).toBe(String(p.tradeId));
  expect(t.price).toBe(Number(p.price));
  expect(t.quantity).toBe(Number(p.size));
  expect(t.side).toBe(p.takerSide);
  expect(Math.abs(t.quote_volume - Number(p.price) * Number(p.size)) / t.quote_volume).toBeLessThan(1e-12);
  // Binance sends milliseconds; Coinbase microseconds.
  expect(t.timestamp).toBe(p.exchange === 'binance' ? new Date(p.timeMs).toISOString() : p.timeIso);
}

describe('simulator → coattail ingest → Kinesis emulator', () => {
  it.each([
    ['plain records', false],
    ['KPL-aggregated records', true],
  ])('every printed trade arrives exactly once (%s)', async (_name, aggregate) => {
    const stream = `e2e-${aggregate ? 'agg' : 'plain'}-${Date.now()}`;
    const client = await freshStream(stream);
    const sim = await startSimulator({ scenario: market({ rate: 1000, totalTrades: 3000 }), seed: 11 });
    running.sims.push(sim);
    // Coinbase's first message per product is last_match: the trade printed before we subscribed.
    const expected = new Map<string, PrintedTrade>(sim.initialTrades.filter((t) => t.exchange === 'coinbase').map((t) => [eventId(t), t]));
    sim.onTrade((t) => expected.set(eventId(t), t));
    const total = 3000 + 3;
    // The ingester stops by itself once it has taken exactly as many trades as were printed.
    const child = ingestProcess(sim, stream, ['--max-trades', String(total), ...(aggregate ? ['--aggregate'] : [])]);
    await sim.done;
    expect(expected.size).toBe(total);
    expect(await child.exit, child.stderr()).toBe(0);
    const summary = JSON.parse(child.stderr().trim().split('\n').at(-1)!) as {
      received: number;
      sent: number;
      failed: number;
      gaps: number;
      duplicates: number;
    };

    const got = await tradesInStream(client, stream);
    const ids = got.map((g) => g.trade.event_id);
    expect(new Set(ids).size).toBe(ids.length); // exactly once: no duplicates
    expect(summary).toMatchObject({ received: ids.length, sent: ids.length, failed: 0, gaps: 0 });
    expect(ids.length).toBe(total); // and nothing missing
    for (const g of got) {
      const p = expected.get(g.trade.event_id);
      expect(p, g.trade.event_id).toBeDefined();
      expectMatchesPrint(g.trade, p!);
      expect(g.key).toBe(g.trade.symbol);
    }
    // Aggregation packs a symbol's trades together (a lone trade in a flush goes plain, as the KPL does).
    const packed = got.filter((g) => g.aggregated).length;
    if (aggregate) expect(packed).toBeGreaterThan(total / 2);
    else expect(packed).toBe(0);
  });

  it.each(['SIGTERM', 'SIGHUP'] as const)('%s mid-stream flushes every accepted trade and exits 0 with a summary', async (signal) => {
    const stream = `e2e-${signal.toLowerCase()}-${Date.now()}`;
    const client = await freshStream(stream);
    // The JS Kinesis emulator takes a few hundred records a second: keep the flow within that.
    const sim = await startSimulator({ scenario: market({ rate: 400 }), seed: 5 });
    running.sims.push(sim);
    const printed = new Map<string, PrintedTrade>(sim.initialTrades.map((t) => [eventId(t), t]));
    sim.onTrade((t) => printed.set(eventId(t), t));
    // A long linger keeps a second of trades buffered when the signal lands.
    const child = ingestProcess(sim, stream, ['--linger-ms', '1000']);
    await sim.started;
    await new Promise((r) => setTimeout(r, 2_000));
    child.proc.kill(signal);
    const code = await child.exit;
    expect(code, child.stderr()).toBe(0);
    const summary = JSON.parse(child.stderr().trim().split('\n').at(-1)!) as {
      stop_reason: string;
      received: number;
      sent: number;
      failed: number;
    };
    expect(summary.stop_reason).toBe('signal');
    expect(summary.received).toBeGreaterThan(400);
    expect(summary.sent).toBe(summary.received);
    expect(summary.failed).toBe(0);
    expect(child.stderr()).toContain('stopping: no more reads, flushing what was accepted');

    const got = await tradesInStream(client, stream);
    expect(got).toHaveLength(summary.received);
    expect(new Set(got.map((g) => g.trade.event_id)).size).toBe(summary.received);
    for (const g of got) expectMatchesPrint(g.trade, printed.get(g.trade.event_id)!);
  });
});
