/**
 * `coattail tail --local` prints what an ingest wrote: `coattail local up` (its own emulators), the market
 * simulator → `coattail ingest --local --aggregate` → the stream, read by `coattail tail --local` both live
 * (started before the ingest) and afterwards from the oldest record, each compared with what the simulator printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { readStreamRecords } from '../../src/kinesis/read-stream.js';
import { userRecords } from '../../src/kinesis/user-records.js';
import { freePort, stopProcess } from '../../src/local/processes.js';
import { readLocalState } from '../../src/local/state.js';
import { parseScenario, startSimulator, type PrintedTrade, type SimulatorHandle } from '../../src/simulator/index.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { tempDir, waitFor } from '../helpers/context.js';
import { BIN } from '../helpers/paths.js';

const SYMBOLS = ['BTC-USDT', 'ETH-USDT', 'SOL-USDT'];
const dir = tempDir('tail-e2e');
const stateDir = path.join(dir, 'state');
const children: ChildProcess[] = [];
let sim: SimulatorHandle | undefined;

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await sim?.close();
  await coattail(['local', 'down', '--state-dir', stateDir]).exit;
  // Whatever `local down` could not stop (it ignores SIGTERM) is killed by its recorded pid.
  const state = readLocalState(stateDir);
  for (const pid of [state?.kinesis.pid, state?.dynamodb.pid]) if (pid) await stopProcess(pid, 250);
});

interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function coattail(args: string[]): Child {
  const proc = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return { proc, stdout: () => out, stderr: () => err, exit };
}

const eventId = (p: PrintedTrade): string => `${p.exchange}:${p.symbol}:${p.tradeId}`;
const trades = (c: Child): UnifiedTrade[] =>
  c
    .stdout()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as UnifiedTrade);

/** Field by field against the simulator's ground truth (its printed decimal strings). */
function expectMatchesPrint(t: UnifiedTrade, p: PrintedTrade | undefined): void {
  expect(p, t.event_id).toBeDefined();
  expect([t.exchange, t.symbol, t.trade_id, t.side]).toEqual([p!.exchange, p!.symbol, String(p!.tradeId), p!.takerSide]);
  expect(t.price).toBe(Number(p!.price));
  expect(t.quantity).toBe(Number(p!.size));
  expect(Math.abs(t.quote_volume - Number(p!.price) * Number(p!.size)) / t.quote_volume).toBeLessThan(1e-12);
}

describe('coattail tail --local', () => {
  it('prints every trade an ingest into the local stream wrote, live and from the oldest, with filters', async () => {
    const [kinesisPort, dynamodbPort] = [await freePort(), await freePort()];
    const up = coattail([
      'local',
      'up',
      '--state-dir',
      stateDir,
      '--kinesis-port',
      String(kinesisPort),
      '--dynamodb-port',
      String(dynamodbPort),
    ]);
    expect(await up.exit, up.stderr()).toBe(0);

    const perSymbol = 200;
    sim = await startSimulator({
      scenario: parseScenario({
        symbols: [
          { symbol: 'BTC-USDT', startPrice: 65000 },
          { symbol: 'ETH-USDT', startPrice: 3200 },
          { symbol: 'SOL-USDT', startPrice: 150 },
        ],
        waitForClients: true,
        rate: 300,
        totalTrades: perSymbol * SYMBOLS.length,
      }),
      seed: 23,
    });
    // Coinbase's first message per product is last_match: the trade printed before the subscription.
    const printed = new Map<string, PrintedTrade>(sim.initialTrades.filter((t) => t.exchange === 'coinbase').map((t) => [eventId(t), t]));
    sim.onTrade((t) => printed.set(eventId(t), t));
    const total = perSymbol * SYMBOLS.length + SYMBOLS.length;

    // The live tail opens both shards' iterators before the first trade is written.
    const live = coattail(['-v', 'tail', '--local', '--state-dir', stateDir, '--max', String(total)]);
    await waitFor(() => (live.stderr().match(/reading shardId-\d+ \(LATEST\)/g) ?? []).length === 2, 30_000, 'the live tail');

    const ingest = coattail([
      'ingest',
      '--local',
      '--state-dir',
      stateDir,
      '--aggregate',
      '--binance-url',
      sim.binanceUrl,
      '--coinbase-url',
      sim.coinbaseUrl,
      '--symbols',
      SYMBOLS.join(','),
      '--max-trades',
      String(total),
      '--stats-interval',
      '0',
    ]);
    expect(await ingest.exit, ingest.stderr()).toBe(0);
    expect(printed.size).toBe(total);

    // The live tail stops by itself at --max: every trade, once, as the simulator printed it.
    expect(await live.exit, live.stderr()).toBe(0);
    const seen = trades(live);
    expect(new Set(seen.map((t) => t.event_id))).toEqual(new Set(printed.keys()));
    expect(seen).toHaveLength(total);
    for (const t of seen) expectMatchesPrint(t, printed.get(t.event_id));
    expect(live.stderr()).toMatch(new RegExp(`tail: ${total} trades printed from 2 shards of coattail-trades \\(stopped by max\\)`));
    expect(live.stderr()).toMatch(/\([1-9]\d* KPL aggregates\)/);

    // Afterwards, from the oldest record: the same trades, each symbol's in the order the stream holds them
    // (read shard by shard with the test reader; the producer's concurrent calls may have reordered ids).
    const again = coattail(['tail', '--local', '--state-dir', stateDir, '--from', 'trim-horizon', '--max', String(total), '--json']);
    expect(await again.exit, again.stderr()).toBe(0);
    const all = trades(again);
    expect(all.map((t) => t.event_id).sort()).toEqual([...printed.keys()].sort());
    const client = createKinesisClient({ endpoint: readLocalState(stateDir)!.kinesis.endpoint, local: true });
    const held = userRecords(await readStreamRecords(client, 'coattail-trades')).map(
      (u) => (JSON.parse(Buffer.from(u.data).toString('utf8')) as UnifiedTrade).event_id,
    );
    client.destroy();
    for (const s of SYMBOLS) {
      const ofSymbol = (ids: string[]): string[] => ids.filter((id) => id.split(':')[1] === s);
      expect(ofSymbol(all.map((t) => t.event_id))).toEqual(ofSymbol(held));
      expect(ofSymbol(seen.map((t) => t.event_id))).toEqual(ofSymbol(held));
    }

    // Filters: the expected set from the simulator's own record.
    const minUsd = 5_000;
    const want = [...printed.values()]
      .filter((p) => p.symbol === 'BTC-USDT' && Number(p.price) * Number(p.size) >= minUsd)
      .map(eventId)
      .sort();
    const filtered = coattail([
      'tail',
      '--local',
      '--state-dir',
      stateDir,
      '--from',
      'trim-horizon',
      '--exit-at-end',
      '--symbols',
      'BTC-USDT',
      '--min-usd',
      String(minUsd),
    ]);
    expect(await filtered.exit, filtered.stderr()).toBe(0);
    expect(want.length).toBeGreaterThan(0);
    expect(
      trades(filtered)
        .map((t) => t.event_id)
        .sort(),
    ).toEqual(want);
  });

  it('Ctrl-C (SIGINT) ends a live tail with exit 0 and its summary', async () => {
    const live = coattail(['-v', 'tail', '--local', '--state-dir', stateDir, '--json']);
    await waitFor(() => (live.stderr().match(/reading shardId-\d+ \(LATEST\)/g) ?? []).length === 2, 30_000, 'the live tail');
    live.proc.kill('SIGINT');
    expect(await live.exit, live.stderr()).toBe(0);
    expect(live.stdout()).toBe('');
    expect(JSON.parse(live.stderr().trim().split('\n').at(-1)!)).toMatchObject({
      stream: 'coattail-trades',
      printed: 0,
      stopped_by: 'signal',
    });
  });

  it('a stream that does not exist is one line and exit 1', async () => {
    const missing = coattail(['tail', '--local', '--state-dir', stateDir, '--stream', 'no-such-stream']);
    expect(await missing.exit).toBe(1);
    expect(missing.stderr().trim().split('\n')).toEqual([
      expect.stringMatching(/^coattail: stream 'no-such-stream' does not exist \(at http/),
    ]);
  });
});
