import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CoattailError } from '../../src/core/errors.js';
import { sparkApps } from '../../src/demo/apps.js';
import { alertLatencyMs, isoToMillis, nearestRank, summarizeLatency } from '../../src/demo/latency.js';
import { alignedStartMs } from '../../src/demo/market.js';
import { planDemo } from '../../src/demo/plan.js';
import { localPending } from '../../src/demo/drain.js';
import { currentSnapshotId, readQueries, readQueryState } from '../../src/demo/progress.js';
import { pipelineArgs } from '../../src/demo/spark.js';
import { STREAMING_JOBS } from '../../src/spark/jobs.js';
import { formatSummary, plainTable, type DemoSummary } from '../../src/demo/summary.js';
import { testContext } from '../helpers/context.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'coattail-demo-units-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('latency', () => {
  it('nearest-rank percentiles: the smallest value with at least p % at or below it', () => {
    const ten = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    // p50 of 10 values: rank ceil(5) = 5 → 50; p95: rank ceil(9.5) = 10 → 100; p10: rank 1 → 10.
    expect(nearestRank(ten, 50)).toBe(50);
    expect(nearestRank(ten, 95)).toBe(100);
    expect(nearestRank(ten, 10)).toBe(10);
    expect(nearestRank([7], 99)).toBe(7);
    expect(nearestRank([], 50)).toBeNull();
  });

  it('summarizes unsorted values, rounded to whole ms, with the count', () => {
    expect(summarizeLatency([3000.4, 1000.6, 2000, 4000])).toEqual({ count: 4, p50: 2000, p95: 4000, p99: 4000, max: 4000 });
    expect(summarizeLatency([])).toEqual({ count: 0, p50: null, p95: null, p99: null, max: null });
  });

  it('reads ISO times with milliseconds or microseconds', () => {
    expect(isoToMillis('2026-01-01T00:00:01.250Z')).toBe(Date.UTC(2026, 0, 1, 0, 0, 1, 250));
    expect(isoToMillis('2026-01-01T00:00:01.250500Z')).toBeCloseTo(Date.UTC(2026, 0, 1, 0, 0, 1, 250) + 0.5, 6);
    expect(isoToMillis('2026-01-01T00:00:01Z')).toBe(Date.UTC(2026, 0, 1, 0, 0, 1));
    expect(isoToMillis('yesterday')).toBeUndefined();
    expect(isoToMillis(42)).toBeUndefined();
  });

  it('measures from the trade time (microseconds) to written_at, falling back to alert_time', () => {
    expect(
      alertLatencyMs({
        trade_time: '2026-01-01T00:00:00.100000Z',
        alert_time: '2026-01-01T00:00:00.100Z',
        written_at: '2026-01-01T00:00:02.600Z',
      }),
    ).toBe(2500);
    expect(alertLatencyMs({ alert_time: '2026-01-01T00:00:00.000Z', written_at: '2026-01-01T00:00:01.000Z' })).toBe(1000);
    expect(alertLatencyMs({ alert_time: '2026-01-01T00:00:00.000Z' })).toBeUndefined();
  });
});

describe('market alignment', () => {
  it('starts so that the given second falls on a whole minute, at least the lead ahead', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 20, 500);
    // Second 10 on a minute: start at hh:mm:50. The first such moment after 12:00:21.5 is 12:00:50.
    expect(alignedStartMs(now, 10)).toBe(Date.UTC(2026, 0, 1, 12, 0, 50));
    // Second 0: the next whole minute.
    expect(alignedStartMs(now, 0)).toBe(Date.UTC(2026, 0, 1, 12, 1, 0));
    // Too close to start in time: the minute after.
    expect(alignedStartMs(Date.UTC(2026, 0, 1, 12, 0, 49, 500), 10)).toBe(Date.UTC(2026, 0, 1, 12, 1, 50));
    // Second 70 = a minute and 10 s: same phase as second 10.
    expect(alignedStartMs(now, 70)).toBe(Date.UTC(2026, 0, 1, 12, 0, 50));
  });
});

describe('progress from the checkpoints', () => {
  // The files as Spark and the local Kinesis source write them (shapes taken from a real run).
  const SEQ_A = '49680600697756058340775774216833050731491489030890061826';
  function write(file: string, text: string): void {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  function offsets(root: string, query: string, id: number, watermark: string, source: string): void {
    write(
      path.join(root, query, 'offsets', String(id)),
      `v1\n{"batchWatermarkMs":${watermark},"batchTimestampMs":1795745776886,"conf":{"spark.sql.shuffle.partitions":"1"}}\n${source}`,
    );
    writeFileSync(path.join(root, query, 'offsets', `.${id}.crc`), '');
  }
  function commit(root: string, query: string, id: number, next: string): void {
    write(path.join(root, query, 'commits', String(id)), `v1\n{"nextBatchWatermarkMs":${next}}`);
  }
  function shardCommit(root: string, query: string, id: number, shard: string, type: string, position?: string): void {
    write(
      path.join(root, query, 'sources', '0', 'shard-commit', String(id), shard),
      JSON.stringify({ shardId: shard, iteratorType: type, ...(position ? { iteratorPosition: position } : {}) }),
    );
  }
  const kinesisOffset = `{"metadata":{"streamName":"coattail-trades","batchId":"1"},"shardId-000000000000":{"iteratorType":"AFTER_SEQUENCE_NUMBER","iteratorPosition":"${SEQ_A}"}}`;

  it('reads batches, the watermark hand-over and the Kinesis positions of the newest batch that read', () => {
    const root = path.join(tmp, 'cp1');
    const q = 'spread-calculator/spreads';
    offsets(root, q, 0, '0', kinesisOffset);
    commit(root, q, 0, '0');
    shardCommit(root, q, 0, 'shardId-000000000000', 'TRIM_HORIZON');
    offsets(root, q, 1, '0', kinesisOffset);
    commit(root, q, 1, '1795745639637');
    shardCommit(root, q, 1, 'shardId-000000000000', 'AFTER_SEQUENCE_NUMBER', SEQ_A);
    shardCommit(root, q, 1, 'shardId-000000000001', 'TRIM_HORIZON');
    expect(readQueryState(root, q)).toEqual({
      query: q,
      started: 1,
      committed: 1,
      watermarkSettled: false, // batch 1 moved the watermark: Spark owes a batch that uses it
      shards: [
        { shardId: 'shardId-000000000000', iteratorType: 'AFTER_SEQUENCE_NUMBER', iteratorPosition: SEQ_A },
        { shardId: 'shardId-000000000001', iteratorType: 'TRIM_HORIZON', iteratorPosition: undefined },
      ],
      snapshotId: undefined,
    });
    expect(localPending(readQueryState(root, q), tmp)).toContain('owed to its watermark');
    // The owed batch has no new data: it reads nothing (no shard-commit) and hands the same watermark on.
    offsets(root, q, 2, '1795745639637', kinesisOffset);
    expect(localPending(readQueryState(root, q), tmp)).toBe(`${q}: batch 2 running`);
    commit(root, q, 2, '1795745639637');
    const settled = readQueryState(root, q);
    expect(settled.watermarkSettled).toBe(true);
    expect(settled.shards?.[0]?.iteratorPosition).toBe(SEQ_A);
    expect(localPending(settled, tmp)).toBeUndefined();
    expect(readQueries(root).map((x) => x.query)).toEqual([q]);
  });

  it("an Iceberg-reading query is pending until it has read the table's current snapshot (64-bit ids kept exact)", () => {
    const root = path.join(tmp, 'cp2');
    const warehouse = path.join(tmp, 'wh2');
    const table = path.join(warehouse, 'crypto_pulse', 'volume_aggregates');
    const q = 'volume-anomaly/anomalies';
    offsets(root, q, 0, '0', '{"version":1,"snapshot_id":-1,"position":-1,"scan_all_files":false}');
    commit(root, q, 0, '0');
    // No snapshot yet: nothing to read.
    expect(currentSnapshotId(table)).toBeUndefined();
    expect(localPending(readQueryState(root, q), warehouse)).toBeUndefined();
    write(path.join(table, 'metadata', 'version-hint.text'), '2');
    write(
      path.join(table, 'metadata', 'v2.metadata.json'),
      '{\n  "format-version" : 2,\n  "current-snapshot-id" : 4956296860281187053,\n  "snapshots" : [ ]\n}',
    );
    expect(currentSnapshotId(table)).toBe('4956296860281187053');
    expect(localPending(readQueryState(root, q), warehouse)).toContain('has a snapshot it has not read');
    offsets(root, q, 1, '0', '{"version":1,"snapshot_id":4956296860281187053,"position":3,"scan_all_files":false}');
    commit(root, q, 1, '0');
    expect(readQueryState(root, q).snapshotId).toBe('4956296860281187053');
    expect(localPending(readQueryState(root, q), warehouse)).toBeUndefined();
  });

  it('a shard file caught while the connector writes it (empty, or cut short) is looked at again, not an error', () => {
    const root = path.join(tmp, 'cp3');
    const q = 'whale-detector/whales';
    offsets(root, q, 0, '0', kinesisOffset);
    commit(root, q, 0, '0');
    shardCommit(root, q, 0, 'shardId-000000000000', 'AFTER_SEQUENCE_NUMBER', SEQ_A);
    const file = path.join(root, q, 'sources', '0', 'shard-commit', '0', 'shardId-000000000001');
    for (const partial of ['', '{"shardId":"shardId-000000000001","iteratorTy']) {
      write(file, partial);
      const state = readQueryState(root, q);
      expect(state.shardsBeingWritten).toBe(true);
      expect(localPending(state, tmp)).toBe(`${q}: its shard positions are being written`);
    }
    shardCommit(root, q, 0, 'shardId-000000000001', 'TRIM_HORIZON');
    const whole = readQueryState(root, q);
    expect(whole.shardsBeingWritten).toBeUndefined();
    expect(whole.shards?.map((s) => s.shardId)).toEqual(['shardId-000000000000', 'shardId-000000000001']);
    expect(localPending(whole, tmp)).toBeUndefined();
  });

  it('no checkpoint yet: no queries', () => {
    expect(readQueries(path.join(tmp, 'missing'))).toEqual([]);
  });
});

describe('spark applications and arguments', () => {
  it('puts the whale detector in an application of its own, the rest niced together', () => {
    expect(sparkApps(STREAMING_JOBS, 2)).toEqual([
      { name: 'whales', jobs: ['whale-detector'], niceness: 0, shufflePartitions: '1' },
      { name: 'windows', jobs: ['raw-archiver', 'volume-anomaly', 'spread-calculator'], niceness: 10, shufflePartitions: '1' },
    ]);
    expect(sparkApps(STREAMING_JOBS, 1)).toEqual([{ name: 'jobs', jobs: [...STREAMING_JOBS], niceness: 0, shufflePartitions: '1' }]);
    expect(sparkApps(['raw-archiver'], 2)).toHaveLength(1);
  });

  const places = {
    kinesisEndpoint: 'http://127.0.0.1:1',
    dynamodbEndpoint: 'http://127.0.0.1:2',
    region: 'us-east-1',
    stream: 's',
    alertsTable: 't',
    warehouse: '/w',
    checkpointRoot: '/c',
    rawRoot: '/r',
  };

  it('builds the pipeline command line as an argument array', () => {
    const args = pipelineArgs({
      ...places,
      jobs: ['whale-detector', 'raw-archiver'],
      watermark: '10 seconds',
      trigger: '5 seconds',
      jobSettings: ['whale-detector:trigger=1 second', 'volume-anomaly:min_periods=2'],
    });
    expect(args).toEqual([
      '-m',
      'coattail_jobs',
      'pipeline',
      '--jobs',
      'whale-detector,raw-archiver',
      '--mode',
      'local',
      '--region',
      'us-east-1',
      '--stream',
      's',
      '--alerts-table',
      't',
      '--kinesis-endpoint',
      'http://127.0.0.1:1',
      '--dynamodb-endpoint',
      'http://127.0.0.1:2',
      '--warehouse',
      '/w',
      '--checkpoint-root',
      '/c',
      '--raw-root',
      '/r',
      '--watermark',
      '10 seconds',
      '--trigger',
      '5 seconds',
      '--set',
      'whale-detector:trigger=1 second',
      '--set',
      'volume-anomaly:min_periods=2',
      '--warm-up',
    ]);
    // Only an application that runs the whale detector warms it up.
    const windows = pipelineArgs({ ...places, jobs: ['raw-archiver', 'spread-calculator'], jobSettings: [] });
    expect(windows).not.toContain('--warm-up');
  });
});

describe('planDemo', () => {
  const ctx = testContext({ cwd: tmp });
  const view = { canShowView: true };

  it('defaults: the default scenario, its symbols, headless only when asked or without a view', () => {
    const plan = planDemo({}, ctx, view);
    expect(plan.scenario?.name).toBe('default');
    expect(plan.symbols).toEqual(['BTC-USDT', 'ETH-USDT', 'SOL-USDT']);
    expect(plan.headless).toBe(false);
    expect(plan.dir).toBe(path.join(tmp, '.coattail/demo'));
    expect(plan.sparkApps).toBe(2);
    expect(plan.durationMs).toBeUndefined();
    // On the simulator a window closes 30 s after its end (the jobs' own 2 minutes stay for --live).
    expect(plan.watermark).toBe('30 seconds');
    // The tuned whale triggers first (alerts every second, the Iceberg history every ten), the jobs'
    // symbols, then nothing of the user's.
    expect(plan.jobSettings.slice(0, 2)).toEqual(['whale-detector:trigger=1 second', 'whale-detector:history_trigger=10 seconds']);
    expect(plan.jobSettings).toContain('raw-archiver:symbols=BTC-USDT,ETH-USDT,SOL-USDT');
    expect(planDemo({}, ctx, { canShowView: false }).headless).toBe(true);
    expect(planDemo({ json: true }, ctx, view).headless).toBe(true);
  });

  it('takes the scripted scenario with its options; the user settings come last', () => {
    const plan = planDemo(
      { scenario: 'scripted', align: '10', watermark: '10s', set: ['volume-anomaly:min_periods=2'], duration: '2.5m', seed: '3' },
      ctx,
      view,
    );
    expect(plan.scenario?.name).toBe('scripted');
    expect(plan.alignSecond).toBe(10);
    expect(plan.watermark).toBe('10 seconds');
    expect(plan.durationMs).toBe(150_000);
    expect(plan.seed).toBe(3);
    expect(plan.jobSettings[plan.jobSettings.length - 1]).toBe('volume-anomaly:min_periods=2');
  });

  it('live: no scenario, the default symbols', () => {
    const plan = planDemo({ live: true }, ctx, view);
    expect(plan.live).toBe(true);
    expect(plan.scenario).toBeUndefined();
    expect(plan.symbols).toEqual(['BTC-USDT', 'ETH-USDT', 'SOL-USDT']);
    expect(plan.watermark).toBeUndefined();
    expect(planDemo({ live: true, watermark: '45s' }, ctx, view).watermark).toBe('45 seconds');
  });

  it.each([
    [{ set: ['min_periods=2'] }, '--set'],
    [{ set: ['nosuch-job:x=1'] }, '--set'],
    [{ watermark: 'soon' }, '--watermark'],
    [{ duration: '-5' }, '--duration'],
    [{ seed: 'x' }, '--seed'],
    [{ align: '1.5' }, '--align'],
    [{ live: true, align: '10' }, '--align'],
    // The default market waits for its clients and prints its history first: no second of it can be set.
    [{ align: '10' }, 'scenario default opens when its clients are there and its history is printed'],
    [{ live: true, record: 'x.jsonl' }, '--record'],
    [{ symbols: 'DOGE-USDT' }, 'DOGE-USDT'],
    [{ sparkApps: '3' }, '--spark-apps'],
  ])('refuses %j with a usage error naming %s', (opts, named) => {
    let err: unknown;
    try {
      planDemo(opts, ctx, view);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).exitCode).toBe(2);
    expect((err as CoattailError).line()).toContain(named);
  });
});

describe('summary', () => {
  const summary: DemoSummary = {
    trades_in: 12345,
    rows: { raw_trades: 12345, whale_trades: 3 },
    alerts: { whale: 3, volume_anomaly: 0, spread: 1 },
    first_alert_s: { whale: 19.5, volume_anomaly: null, spread: 110 },
    latency_ms: { count: 3, p50: 1500, p95: 2500, p99: 2500, max: 2500 },
    source: 'simulator',
    scenario: 'default',
    seed: 42,
    market_started_at: '2026-01-01T00:00:00.000Z',
    duration_s: 200,
    failed_queries: [],
    late_rows_dropped: {},
    trades_undelivered: 0,
    trades_lost: 0,
    feeds: { reconnects: 2, gaps: 2, backfilled: 56, missing_trades: 1234, malformed_frames: 3, invalid_trades: 1, duplicates: 0 },
    dir: '/d',
    spark_logs: ['/d/logs/spark-whales.log'],
  };

  it('aligns two columns when there is no table library', () => {
    expect(
      plainTable([
        ['trades in', '5'],
        ['rows raw_trades', '1,000'],
      ]),
    ).toBe('trades in            5\nrows raw_trades  1,000');
  });

  it('prints the table on stdout and the notes for people apart', async () => {
    const { table, notes } = await formatSummary(summary, false);
    expect(table).toContain('scenario default (seed 42)');
    expect(table).toMatch(/trades in\s*│\s*12,345/);
    expect(table).toMatch(/alerts spread\s*│\s*1/);
    expect(table).toMatch(/first whale alert \(s after open\)\s*│\s*19\.5/);
    expect(table).toMatch(/first volume_anomaly alert \(s after open\)\s*│\s*–/);
    expect(table).toMatch(/first spread alert \(s after open\)\s*│\s*110\.0/);
    expect(table).toMatch(/whale latency p99 \(ms\)\s*│\s*2,500/);
    expect(table).toMatch(/feed reconnects\s*│\s*2/);
    expect(table).toMatch(/feed gaps \(backfilled, missing\)\s*│\s*2 \(56, 1,234\)/);
    expect(table).toMatch(/malformed frames, invalid trades\s*│\s*3, 1/);
    expect(notes).toContain('/d/logs/spark-whales.log');
    expect(notes).toContain('whale alerts only');
  });
});
