/**
 * `coattail ingest` in-process against the Kinesis emulator, its stream deleted mid-run so every trade
 * is given up on, with real folders that cannot be written (a file where the folder should be: unlike
 * chmod, that stops root too). Trades go to --undelivered-dir, else the OS temp folder; what no place
 * takes is counted as lost and fails the run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteStreamCommand } from '@aws-sdk/client-kinesis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { ingest, type IngestOptions } from '../../src/commands/ingest.js';
import { CoattailError } from '../../src/core/errors.js';
import { ensureStream } from '../../src/local/resources.js';
import type { UnifiedTrade } from '../../src/trade.js';
import { tempDir, testContext, waitFor } from '../helpers/context.js';
import { closeServers, server } from '../helpers/ws-server.js';

const savedTmpdir = process.env.TMPDIR;
afterEach(async () => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  await closeServers();
});

const frame = (id: number) =>
  `{"stream":"btcusdt@trade","data":{"e":"trade","E":1714564800000,"s":"BTCUSDT","t":${id},"p":"60000.00","q":"0.01","T":1714564800000,"m":false,"M":true}}`;

/** A path where a folder cannot be made. */
function fileInTheWay(dir: string, name: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, 'a file in the way\n');
  return p;
}

interface Summary {
  received: number;
  sent: number;
  failed: number;
  saved: number;
  lost: number;
  undelivered_files: string[];
}

/** Runs ingest until 5 trades were sent to a stream deleted after the start check: all of them are given up on. */
async function ingestIntoDeletedStream(cwd: string, over: Partial<IngestOptions> = {}) {
  const endpoint = inject('kinesisEndpoint');
  const client = createKinesisClient({ endpoint }, {});
  const stream = `undelivered-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  await ensureStream(client, stream, 1);
  let go: () => void = () => {};
  const released = new Promise<void>((resolve) => (go = resolve));
  const srv = await server((ws) => {
    void released.then(() => {
      for (let id = 1; id <= 5; id++) ws.send(frame(id));
    });
  });
  const ctx = testContext({ cwd });
  const opts: IngestOptions = {
    exchanges: 'binance',
    symbols: 'BTC-USDT',
    stream,
    kinesisEndpoint: endpoint,
    stateDir: '.coattail/local',
    sink: 'kinesis',
    binanceUrl: srv.url,
    coinbaseUrl: 'ws://127.0.0.1:1',
    // Nothing listens on port 1: the listings are refused at once (the built-in table decides) and a backfill fails fast, counted.
    binanceRestUrl: 'http://127.0.0.1:1',
    coinbaseRestUrl: 'http://127.0.0.1:1',
    backfill: true,
    symbolsCache: '.coattail/symbols',
    binanceTimeUnit: 'ms',
    lingerMs: '200',
    bufferRecords: '20000',
    statsInterval: '0',
    shutdownTimeout: '5',
    json: true,
    ...over,
  };
  const run = ingest(opts, ctx).then(
    () => undefined,
    (e: unknown) => e,
  );
  // Connected to the exchange: the stream check has passed. Now it goes away.
  await waitFor(() => srv.open().length === 1, 10_000, 'ingest to connect');
  await client.send(new DeleteStreamCommand({ StreamName: stream }));
  go();
  const err = await run;
  client.destroy();
  const summary = JSON.parse(ctx.err.lines().at(-1)!) as Summary;
  return { err, summary, stderr: ctx.err.text() };
}

function tradesIn(file: string): UnifiedTrade[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse((JSON.parse(l) as { record: string }).record) as UnifiedTrade);
}

/** The trades the summary says were received, worked out from the frames: ids 1..received. */
const firstIds = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

describe('coattail ingest when the undelivered folder cannot be written', () => {
  it('saves in the OS temp folder when .coattail/undelivered cannot be made, and says where', async () => {
    const cwd = tempDir('cwd');
    fileInTheWay(cwd, '.coattail');
    process.env.TMPDIR = tempDir('tmp');
    const { err, summary, stderr } = await ingestIntoDeletedStream(cwd);

    const file = summary.undelivered_files[0]!;
    expect(path.dirname(file)).toBe(path.join(process.env.TMPDIR, 'coattail-undelivered'));
    expect(summary.received).toBeGreaterThan(0);
    expect(summary).toMatchObject({ sent: 0, failed: summary.received, saved: summary.received, lost: 0, undelivered_files: [file] });
    expect(tradesIn(file).map((t) => t.trade_id)).toEqual(firstIds(summary.received));
    expect(stderr).toContain('undelivered trades saved in a fallback place');
    expect(stderr).toContain(path.join(cwd, '.coattail', 'undelivered'));
    // The run still fails, with the reason: the stream went away.
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).line()).toContain(`the stream was not found`);
  });

  it('uses --undelivered-dir first', async () => {
    const cwd = tempDir('cwd');
    const dir = path.join(tempDir('chosen'), 'undelivered');
    const { summary } = await ingestIntoDeletedStream(cwd, { undeliveredDir: dir });
    expect(summary.undelivered_files).toHaveLength(1);
    expect(path.dirname(summary.undelivered_files[0]!)).toBe(dir);
    expect(tradesIn(summary.undelivered_files[0]!).map((t) => t.trade_id)).toEqual(firstIds(summary.received));
    expect(summary).toMatchObject({ saved: summary.received, lost: 0 });
  });

  it('counts the trades no place could take as lost, exactly, and fails with that count', async () => {
    const cwd = tempDir('cwd');
    const blocked = fileInTheWay(cwd, 'blocked');
    process.env.TMPDIR = fileInTheWay(tempDir('tmp'), 'not-a-folder');
    const { err, summary, stderr } = await ingestIntoDeletedStream(cwd, { undeliveredDir: blocked });

    expect(summary.received).toBeGreaterThan(0);
    expect(summary).toMatchObject({ sent: 0, failed: summary.received, saved: 0, lost: summary.received, undelivered_files: [] });
    expect(stderr).toContain('could not keep the records not delivered; holding them and trying again');
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).exitCode).not.toBe(0);
    expect((err as CoattailError).line()).toMatch(
      new RegExp(
        `^coattail: ${summary.received} trades were lost: they were not delivered after the sink failed \\(.*\\), and could not be saved in ${blocked} or ${process.env.TMPDIR}/coattail-undelivered\\. Free disk space`,
      ),
    );
  });
});
