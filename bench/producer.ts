/**
 * The producer under a simulator burst (20,000 trades/s) while Kinesis is stalled: the `coattail ingest`
 * binary's peak RSS must stay bounded (its writer pauses the sockets at --buffer-records), and once
 * Kinesis answers again every printed trade must land in the stream exactly once. The baseline, measured
 * in the same run against the same emulator, is the same binary's peak RSS on a small unstalled run.
 *
 * The stall holds requests unanswered rather than refusing connections: a Kinesis outage seen from a
 * producer is an endpoint that still accepts connections (its load balancers stay up) while calls hang,
 * and it is the harsher case for memory, since in-flight batches stay pinned and nothing fails fast.
 *
 * Both runs use --aggregate by default: the emulator takes a few hundred plain records a second (slower
 * as the stream grows), so 100,000 plain records could not drain in minutes. The buffer and the pause
 * count user records either way; `{ aggregate: false }` measures the plain path on a smaller burst.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createKinesisClient } from '../src/aws/kinesis.js';
import { readStreamRecords } from '../src/kinesis/read-stream.js';
import { userRecords } from '../src/kinesis/user-records.js';
import { freePort, spawnKinesisEmulator, stopProcess, waitForPort } from '../src/local/processes.js';
import { ensureStream } from '../src/local/resources.js';
import { exitWithin, ingestSummary, killChildrenAndExit, spawnIngest, track, watchMemory, type IngestChild } from './ingest-child.js';
import { loadScenario, parseScenario, startSimulator, type PrintedTrade, type SimulatorStats } from '../src/simulator/index.js';

const MB = 1024 * 1024;
const mb = (bytes: number): number => Math.round((bytes / MB) * 10) / 10;

export interface ProducerBenchOptions {
  /** Trades the burst prints, at the burst scenario's 20,000/s. */
  burstTrades?: number;
  /** How long Kinesis stays stalled after the burst has printed everything. */
  stallAfterBurstMs?: number;
  baselineTrades?: number;
  baselineRate?: number;
  shards?: number;
  /** KPL-aggregate (--aggregate) in both runs. */
  aggregate?: boolean;
}

interface ProxyCounts {
  /** Requests held at once, at most. */
  heldMax: number;
  forwarded: number;
  answered: number;
  upstreamErrors: number;
  /** Held calls whose client gave up before the release (not forwarded). */
  abandoned: number;
  /** Largest request body: a PutRecords call as the SDK serialized it. */
  largestBodyMb: number;
}

export interface ProducerResult {
  burst_trades: number;
  burst_rate: number;
  aggregate: boolean;
  /** VmHWM of the ingest process over its whole life: stall, drain and flush. */
  peak_rss_mb: number;
  /** Highest VmRSS sampled every 100 ms until Kinesis came back. */
  peak_rss_stalled_mb: number;
  baseline_rss_mb: number;
  ratio: number;
  target_peak_rss_mb: number;
  /** Highest `buffered` in the ingester's stats lines (every 250 ms). */
  max_buffered: number | null;
  /** Trades the ingester had taken when Kinesis came back. */
  received_at_release: number | null;
  /** What the stall proxy saw: held at once, forwarded, answered, still pending. */
  kinesis_requests: ProxyCounts & { pending: number };
  stall_s: number;
  /** From the release until the ingester exited, everything delivered. */
  drain_s: number;
  expected: number;
  in_stream: number;
  lost: number;
  duplicates: number;
  unexpected: number;
  ingest_summary: Record<string, unknown>;
  simulator: Pick<SimulatorStats, 'printed' | 'framesSent' | 'slowClientsDropped' | 'socketErrors' | 'connectionsAccepted'>;
  baseline: { trades: number; rate: number; lost: number; duplicates: number };
  timings_s: { emulator_start: number; baseline: number; burst: number; read_back: number; total: number };
}

// ---------- the stall switch: a proxy in front of the emulator ----------

interface StallProxy {
  url: string;
  stall(): void;
  release(): void;
  counts(): ProxyCounts & { pending: number };
  close(): Promise<void>;
}

async function startStallProxy(upstreamPort: number): Promise<StallProxy> {
  const agent = new http.Agent({ keepAlive: true });
  const counts: ProxyCounts = { heldMax: 0, forwarded: 0, answered: 0, upstreamErrors: 0, abandoned: 0, largestBodyMb: 0 };
  let stalled = false;
  const held: Array<() => void> = [];

  const forward = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void => {
    // The client gave up while we held its call: a black hole delivers nothing, so neither do we.
    if (res.destroyed || req.socket.destroyed) {
      counts.abandoned += 1;
      return;
    }
    counts.forwarded += 1;
    res.on('finish', () => (counts.answered += 1));
    const up = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', (err) => {
      counts.upstreamErrors += 1;
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
    up.end(body);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      counts.largestBodyMb = Math.max(counts.largestBodyMb, mb(body.length));
      if (!stalled) return forward(req, body, res);
      held.push(() => forward(req, body, res));
      counts.heldMax = Math.max(counts.heldMax, held.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stall: () => void (stalled = true),
    release: () => {
      stalled = false;
      for (const go of held.splice(0)) go();
    },
    counts: () => ({ ...counts, pending: counts.forwarded - counts.answered }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

// ---------- one run: simulator → ingest → proxy → emulator, then read back ----------

const eventId = (t: PrintedTrade): string => `${t.exchange}:${t.symbol}:${t.tradeId}`;
const seconds = (ms: number): number => Math.round(ms / 100) / 10;

async function countInStream(
  endpoint: string,
  stream: string,
  expected: Set<string>,
): Promise<{ inStream: number; lost: number; duplicates: number; unexpected: number }> {
  const client = createKinesisClient({ endpoint }, {});
  const ids = userRecords(await readStreamRecords(client, stream)).map(
    (u) => (JSON.parse(Buffer.from(u.data).toString('utf8')) as { event_id: string }).event_id,
  );
  const distinct = new Set(ids);
  let lost = 0;
  for (const id of expected) if (!distinct.has(id)) lost += 1;
  let unexpected = 0;
  for (const id of distinct) if (!expected.has(id)) unexpected += 1;
  return { inStream: ids.length, lost, duplicates: ids.length - distinct.size, unexpected };
}

interface RunPlan {
  stream: string;
  trades: number;
  rate: number;
  aggregate: boolean;
  /** Stall Kinesis from the first printed trade until this long after the last; unset: no stall. */
  stallAfterBurstMs?: number;
}

async function ingestRun(proxy: StallProxy, endpoint: string, plan: RunPlan, log: (m: string) => void) {
  const scenario = parseScenario(
    { ...loadScenario('burst'), totalTrades: plan.trades, rate: plan.rate, waitForClients: true },
    'burst (benchmark)',
  );
  const sim = await startSimulator({ scenario });
  let child: IngestChild | undefined;
  try {
    // Coinbase sends each product's last trade (last_match) at subscribe: the ingester takes those too.
    const expected = new Set(sim.initialTrades.filter((t) => t.exchange === 'coinbase').map(eventId));
    const total = plan.trades + expected.size;
    sim.onTrade((t) => expected.add(eventId(t)));
    child = spawnIngest(plan.stream, [
      '--stream',
      plan.stream,
      '--binance-url',
      sim.binanceUrl,
      '--coinbase-url',
      sim.coinbaseUrl,
      '--binance-rest-url',
      sim.binanceRestUrl,
      '--coinbase-rest-url',
      sim.coinbaseRestUrl,
      '--kinesis-endpoint',
      proxy.url,
      '--max-trades',
      String(total),
      '--stats-interval',
      '0.25',
      '--shutdown-timeout',
      '120',
      ...(plan.aggregate ? ['--aggregate'] : []),
    ]);
    const mem = watchMemory(child.proc.pid!);
    await sim.started;
    // Set in the tick generation starts, before the ingester's first batch has lingered its 100 ms.
    if (plan.stallAfterBurstMs !== undefined) proxy.stall();
    const stallStart = performance.now();
    await sim.done;
    let receivedAtRelease: number | null = null;
    let stallMs = 0;
    let peakStalled = 0;
    if (plan.stallAfterBurstMs !== undefined) {
      log(`  burst printed ${plan.trades} trades in ${seconds(performance.now() - stallStart)} s; Kinesis still stalled`);
      await new Promise((r) => setTimeout(r, plan.stallAfterBurstMs));
      peakStalled = mem.maxRss();
      receivedAtRelease = child.stats.received;
      stallMs = performance.now() - stallStart;
      proxy.release();
      log(`  released after ${seconds(stallMs)} s stalled; draining`);
    }
    const releasedAt = performance.now();
    await exitWithin(child, 150_000, plan.stream, () => `Kinesis requests ${JSON.stringify(proxy.counts())}`);
    const drainMs = performance.now() - releasedAt;
    mem.stop();
    const summary = ingestSummary(child);
    if (expected.size !== total)
      throw new Error(`${plan.stream}: the simulator printed ${expected.size} distinct trades, expected ${total}`);
    const readStart = performance.now();
    const check = await countInStream(endpoint, plan.stream, expected);
    const readMs = performance.now() - readStart;
    return {
      total,
      hwm: mem.hwm(),
      peakStalled,
      stallMs,
      drainMs,
      readMs,
      receivedAtRelease,
      maxBuffered: child.stats.maxBuffered,
      summary,
      check,
      sim: sim.stats(),
    };
  } finally {
    if (child && child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
    await sim.close();
  }
}

function contractBreaks(r: ProducerResult): string[] {
  return [
    r.lost > 0 && `${r.lost} trades lost`,
    r.duplicates > 0 && `${r.duplicates} duplicates`,
    r.unexpected > 0 && `${r.unexpected} records the simulator never printed`,
    r.baseline.lost + r.baseline.duplicates > 0 && 'the baseline run lost or duplicated trades',
    r.simulator.slowClientsDropped > 0 && 'the simulator cut the ingester off as a slow reader (raise maxBufferedBytes)',
    r.peak_rss_mb >= r.target_peak_rss_mb && `peak RSS ${r.peak_rss_mb} MB is over the ${r.target_peak_rss_mb} MB target`,
  ].filter((s): s is string => typeof s === 'string');
}

export async function benchProducer(opts: ProducerBenchOptions = {}): Promise<ProducerResult> {
  const burstTrades = opts.burstTrades ?? 100_000;
  const burstRate = loadScenario('burst').rate;
  const baselineTrades = opts.baselineTrades ?? 2_000;
  const baselineRate = opts.baselineRate ?? 1_000;
  const aggregate = opts.aggregate ?? true;
  const shards = opts.shards ?? 4;
  const log = (m: string): void => void process.stderr.write(`${m}\n`);
  const t0 = performance.now();

  process.once('SIGINT', killChildrenAndExit);
  process.once('SIGTERM', killChildrenAndExit);
  const port = await freePort();
  const emulator = track(spawnKinesisEmulator({ port, tlsPort: await freePort() }));
  let proxy: StallProxy | undefined;
  try {
    const exited = new AbortController();
    emulator.once('exit', (code) => exited.abort(new Error(`the Kinesis emulator exited (${code}) before it listened`)));
    await waitForPort(port, '127.0.0.1', 60_000, exited.signal);
    const endpoint = `http://127.0.0.1:${port}`;
    const client = createKinesisClient({ endpoint }, {});
    const suffix = Date.now();
    const baselineStream = `bench-producer-baseline-${suffix}`;
    const burstStream = `bench-producer-burst-${suffix}`;
    await ensureStream(client, baselineStream, shards);
    await ensureStream(client, burstStream, shards);
    proxy = await startStallProxy(port);
    const t1 = performance.now();

    log(`  baseline: ${baselineTrades} trades at ${baselineRate}/s, Kinesis answering`);
    const base = await ingestRun(proxy, endpoint, { stream: baselineStream, trades: baselineTrades, rate: baselineRate, aggregate }, log);
    const t2 = performance.now();
    log(`  burst: ${burstTrades} trades at ${burstRate}/s, Kinesis stalled`);
    const burst = await ingestRun(
      proxy,
      endpoint,
      { stream: burstStream, trades: burstTrades, rate: burstRate, aggregate, stallAfterBurstMs: opts.stallAfterBurstMs ?? 3_000 },
      log,
    );
    const t3 = performance.now();

    const result: ProducerResult = {
      burst_trades: burstTrades,
      burst_rate: burstRate,
      aggregate,
      peak_rss_mb: mb(burst.hwm),
      peak_rss_stalled_mb: mb(burst.peakStalled),
      baseline_rss_mb: mb(base.hwm),
      ratio: Math.round((burst.hwm / base.hwm) * 100) / 100,
      target_peak_rss_mb: 250,
      max_buffered: burst.maxBuffered,
      received_at_release: burst.receivedAtRelease,
      kinesis_requests: proxy.counts(),
      stall_s: seconds(burst.stallMs),
      drain_s: seconds(burst.drainMs),
      expected: burst.total,
      in_stream: burst.check.inStream,
      lost: burst.check.lost,
      duplicates: burst.check.duplicates,
      unexpected: burst.check.unexpected,
      ingest_summary: burst.summary,
      simulator: {
        printed: burst.sim.printed,
        framesSent: burst.sim.framesSent,
        slowClientsDropped: burst.sim.slowClientsDropped,
        socketErrors: burst.sim.socketErrors,
        connectionsAccepted: burst.sim.connectionsAccepted,
      },
      baseline: { trades: base.total, rate: baselineRate, lost: base.check.lost, duplicates: base.check.duplicates },
      timings_s: {
        emulator_start: seconds(t1 - t0),
        baseline: seconds(t2 - t1),
        burst: seconds(t3 - t2),
        read_back: seconds(burst.readMs),
        total: seconds(t3 - t0),
      },
    };
    const broken = contractBreaks(result);
    // The numbers still print; the exit code tells whoever runs it that the contract was missed.
    if (broken.length > 0) {
      log(`  producer benchmark FAILED: ${broken.join('; ')}`);
      process.exitCode = 1;
    }
    return result;
  } finally {
    await proxy?.close();
    if (emulator.pid) await stopProcess(emulator.pid, 500);
    process.off('SIGINT', killChildrenAndExit);
    process.off('SIGTERM', killChildrenAndExit);
  }
}
