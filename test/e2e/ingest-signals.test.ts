/**
 * A second signal (or a SIGHUP) ends `coattail ingest` at once, while its buffer is full: the Kinesis
 * emulator is held (SIGSTOP) so nothing more is acknowledged. Whatever the binary received is then either
 * in the stream (acknowledged before the hold) or in the undelivered file it wrote before exiting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { readStreamRecords } from '../../src/kinesis/read-stream.js';
import { userRecords } from '../../src/kinesis/user-records.js';
import { freePort, spawnKinesisEmulator, stopProcess, waitForPort } from '../../src/local/processes.js';
import { ensureStream } from '../../src/local/resources.js';
import { parseScenario, startSimulator, type PrintedTrade } from '../../src/simulator/index.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { tempDir, waitFor } from '../helpers/context.js';
import { BIN } from '../helpers/paths.js';

let emulator: ChildProcess;
let endpoint: string;
beforeAll(async () => {
  const [port, tlsPort] = [await freePort(), await freePort()];
  endpoint = `http://127.0.0.1:${port}`;
  emulator = spawnKinesisEmulator({ port, tlsPort });
  await waitForPort(port, '127.0.0.1', 60_000);
});
afterAll(async () => {
  process.kill(emulator.pid!, 'SIGCONT');
  await stopProcess(emulator.pid!, 250);
});

interface StatsLine {
  msg: string;
  received?: number;
  sent?: number;
  buffered?: number;
}

const eventId = (p: PrintedTrade) => `${p.exchange}:${p.symbol}:${p.tradeId}`;

describe('coattail ingest ended by a second signal', () => {
  it.each([
    ['SIGINT', 'SIGINT'],
    ['SIGTERM', 'SIGTERM'],
    ['SIGHUP', 'SIGHUP'],
  ] as const)(
    '%s then %s: every received trade is delivered or saved in the undelivered file, and it says so',
    async (first, second) => {
      const client = createKinesisClient({ endpoint }, {});
      const stream = `signals-${first.toLowerCase()}`;
      await ensureStream(client, stream, 1);
      const scenario = parseScenario({
        symbols: [
          { symbol: 'BTC-USDT', startPrice: 65000 },
          { symbol: 'ETH-USDT', startPrice: 3200 },
        ],
        rate: 300,
        totalTrades: 1_200,
        waitForClients: true,
      });
      const sim = await startSimulator({ scenario, seed: 9 });
      // What the binary receives: Coinbase's last_match per product, then every print.
      const expected = new Set(sim.initialTrades.filter((t) => t.exchange === 'coinbase').map(eventId));
      sim.onTrade((t) => expected.add(eventId(t)));
      const undeliveredDir = tempDir('signals');

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
          '--binance-rest-url',
          sim.binanceRestUrl,
          '--coinbase-rest-url',
          sim.coinbaseRestUrl,
          '--symbols',
          'BTC-USDT,ETH-USDT',
          '--stats-interval',
          '1',
        ],
        {
          cwd: undeliveredDir,
          env: {
            ...process.env,
            COATTAIL_KINESIS_ENDPOINT: endpoint,
            COATTAIL_UNDELIVERED_DIR: undeliveredDir,
            COATTAIL_LOG_FORMAT: 'json',
            NO_COLOR: '1',
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      ingest.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => ingest.on('exit', (code) => resolve(code)));
      const lines = (): StatsLine[] =>
        stderr
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as StatsLine);
      const lastStats = (): StatsLine | undefined =>
        lines()
          .filter((l) => l.msg === 'stats')
          .at(-1);

      try {
        // Some trades delivered, then Kinesis holds: nothing more is acknowledged, the rest stays buffered.
        await waitFor(() => (lastStats()?.sent ?? 0) > 0, 20_000, 'a first delivery');
        process.kill(emulator.pid!, 'SIGSTOP');
        await sim.done;
        await waitFor(() => lastStats()?.received === expected.size, 20_000, 'every printed trade to be received');
        expect(lastStats()?.buffered).toBeGreaterThan(0);

        ingest.kill(first);
        await waitFor(() => stderr.includes('stopping: no more reads'), 10_000, 'the first signal to start the flush');
        ingest.kill(second);
        const code = await exited;

        expect(stderr).toContain(`coattail: second ${second}, exiting now without waiting.`);
        const said = /coattail: saved (\d+) trades not yet delivered in (\S+); send them again once the sink is healthy/.exec(stderr);
        expect(said, stderr).not.toBeNull();
        expect(code).toBe(128 + constants.signals[second]);
        const file = said![2]!;
        expect(path.dirname(file)).toBe(undeliveredDir);
        const saved = readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .map((l) => (JSON.parse((JSON.parse(l) as { record: string }).record) as UnifiedTrade).event_id);
        expect(saved).toHaveLength(Number(said![1]));
        expect(new Set(saved).size).toBe(saved.length);

        process.kill(emulator.pid!, 'SIGCONT');
        const delivered = userRecords(await readStreamRecords(client, stream)).map(
          (u) => (JSON.parse(Buffer.from(u.data).toString('utf8')) as UnifiedTrade).event_id,
        );
        expect(delivered.length).toBeGreaterThan(0);
        // Received = delivered + saved: nothing lost, nothing that was never printed. (A call in flight at the
        // exit may have reached Kinesis too: those trades are saved as well, and say so.)
        expect(new Set([...delivered, ...saved])).toEqual(expected);
      } finally {
        process.kill(emulator.pid!, 'SIGCONT');
        if (ingest.exitCode === null && ingest.signalCode === null) ingest.kill('SIGKILL');
        await sim.close();
        client.destroy();
      }
    },
    90_000,
  );
});
