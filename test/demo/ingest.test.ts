/**
 * The demo's in-process ingest on a forced exit (a second Ctrl-C): every trade Kinesis has not
 * acknowledged is written to the undelivered file, synchronously, and one line says how many and where.
 * Kinesis here is a real TCP server that takes PutRecords requests and never answers them, so the
 * trades are held in flight; the market is the real simulator.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { systemClock } from '../../src/core/time.js';
import { demoExchangeSymbols, startIngest } from '../../src/demo/ingest.js';
import { parseScenario, startSimulator, type PrintedTrade } from '../../src/simulator/index.js';
import { Capture, waitFor } from '../helpers/context.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'coattail-demo-ingest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the demo ingest on a forced exit', () => {
  it('saves every unacknowledged trade and says how many, where', async () => {
    const sockets: Socket[] = [];
    let requests = 0;
    const kinesis = createServer((socket) => {
      sockets.push(socket);
      socket.on('data', (d) => {
        if (d.toString('latin1').startsWith('POST')) requests += 1; // read, never answered
      });
    });
    await new Promise<void>((resolve) => kinesis.listen(0, '127.0.0.1', resolve));
    const sim = await startSimulator({
      scenario: parseScenario({ symbols: [{ symbol: 'BTC-USDT', startPrice: 65000 }], rate: 200, totalTrades: 400, waitForClients: true }),
      seed: 3,
      port: 0,
    });
    const printed: PrintedTrade[] = [...sim.initialTrades];
    sim.onTrade((t) => printed.push(t));
    const saves: Array<() => void> = [];
    const stderr = new Capture();
    const ingest = startIngest({
      symbols: ['BTC-USDT'],
      exchangeSymbols: { binance: new Map([['BTC-USDT', 'BTCUSDT']]) },
      binanceUrl: sim.binanceUrl,
      coinbaseUrl: sim.coinbaseUrl,
      restUrls: { binance: sim.binanceRestUrl, coinbase: sim.coinbaseRestUrl },
      kinesisEndpoint: `http://127.0.0.1:${(kinesis.address() as { port: number }).port}`,
      region: 'us-east-1',
      stream: 'coattail-trades',
      lingerMs: 20,
      undeliveredDir: path.join(tmp, 'undelivered'),
      statsIntervalMs: 0,
      logger: silentLogger,
      clock: systemClock,
      onForcedExit: (save) => {
        saves.push(save);
        return () => saves.splice(saves.indexOf(save), 1);
      },
      stderr,
    });
    try {
      await sim.done;
      // Every printed trade, and Coinbase's last_match of the one before the session; Binance's is not sent.
      const expected = new Set(
        [...printed.slice(sim.initialTrades.length), ...sim.initialTrades.filter((t) => t.exchange === 'coinbase')].map(
          (p) => `${p.exchange}:${p.symbol}:${p.tradeId}`,
        ),
      );
      await waitFor(() => ingest.accepted() === expected.size, 15_000, 'every trade taken in');
      await waitFor(() => requests > 0, 15_000, 'a PutRecords request in flight');
      expect(saves).toHaveLength(1);
      saves[0]!(); // what the command runs right before the forced exit

      const line = stderr.lines();
      expect(line).toHaveLength(1);
      const m = /^coattail: saved (\d+) trades not yet delivered in (\S+); send them again once the sink is healthy$/.exec(line[0]!);
      expect(m, line[0]).not.toBeNull();
      const saved = readFileSync(m![2]!, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse((JSON.parse(l) as { record: string }).record) as { event_id: string });
      expect(saved).toHaveLength(Number(m![1]));
      // Nothing was acknowledged, so every trade the ingest took in is in the file, once.
      const ids = saved.map((t) => t.event_id);
      expect(ids.length).toBe(expected.size);
      expect(new Set(ids)).toEqual(expected);
    } finally {
      ingest.stop();
      for (const s of sockets) s.destroy();
      kinesis.close();
      await ingest.result;
      await sim.close();
    }
  }, 60_000);
});

describe("the demo's symbol names", () => {
  it("names the simulator's symbols as its Binance does, without asking the network", async () => {
    // Nothing is fetched for the simulator: no REST URL is read, so none is given.
    const names = await demoExchangeSymbols('simulator', ['AR-BUSD', 'BTC-USDT'], {}, tmp, silentLogger, systemClock);
    expect(names).toEqual({
      binance: new Map([
        ['AR-BUSD', 'ARBUSD'],
        ['BTC-USDT', 'BTCUSDT'],
      ]),
    });
  });
});
