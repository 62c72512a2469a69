import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  EMRServerlessClient,
  GetDashboardForJobRunCommand,
  GetJobRunCommand,
  StartJobRunCommand,
  type JobRun,
  type JobRunState,
} from '@aws-sdk/client-emr-serverless';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import {
  checkAsOf,
  checkReprocessSettings,
  parseReport,
  renderComparison,
  reprocess,
  reprocessArgs,
  type ReprocessReport,
} from '../../src/commands/reprocess.js';
import { CoattailError } from '../../src/core/errors.js';
import { tempDir, testContext } from '../helpers/context.js';
import { packageRoot } from '../../src/core/dirs.js';
import { standInPython, type StandInPython } from '../helpers/python.js';

function usageLine(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).exitCode).toBe(2);
    return (err as CoattailError).line();
  }
  throw new Error('no error thrown');
}

const FIX = 'Write it like 2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00 or a snapshot id like 5301479425378617361';

describe('coattail reprocess: --as-of and --set', () => {
  it.each([
    '5301479425378617361',
    '9223372036854775807',
    '2024-05-01T12:00:00Z',
    '2024-05-01T14:00:00+02:00',
    '2024-05-01 12:00Z',
    '2024-05-01T12:00:00.123456-05:30',
    '2024-02-29T23:59:59Z',
  ])('accepts %s', (value) => {
    expect(checkAsOf(value)).toBe(value);
  });

  it.each([
    [undefined, `coattail: --as-of is missing: reprocess reads raw_trades as of a snapshot id or a time. ${FIX}`],
    [
      'yesterday',
      `coattail: --as-of 'yesterday' is neither a snapshot id nor a time: it takes digits (a snapshot id of raw_trades) or an ISO-8601 time with a zone. ${FIX}`,
    ],
    [
      '2024-05-01',
      `coattail: --as-of '2024-05-01' is neither a snapshot id nor a time: it takes digits (a snapshot id of raw_trades) or an ISO-8601 time with a zone. ${FIX}`,
    ],
    [
      '2024-05-01T12:00:00',
      `coattail: --as-of '2024-05-01T12:00:00' is neither a snapshot id nor a time: it takes digits (a snapshot id of raw_trades) or an ISO-8601 time with a zone. ${FIX}`,
    ],
    [
      '-5',
      `coattail: --as-of '-5' is neither a snapshot id nor a time: it takes digits (a snapshot id of raw_trades) or an ISO-8601 time with a zone. ${FIX}`,
    ],
    ['2023-02-29T00:00:00Z', `coattail: --as-of '2023-02-29T00:00:00Z' is not a valid time: a date or time field is out of range. ${FIX}`],
    ['2024-05-01T24:00:00Z', `coattail: --as-of '2024-05-01T24:00:00Z' is not a valid time: a date or time field is out of range. ${FIX}`],
    [
      '2024-05-01T12:00:00+24:00',
      `coattail: --as-of '2024-05-01T12:00:00+24:00' is not a valid time: a date or time field is out of range. ${FIX}`,
    ],
    ['9223372036854775808', `coattail: --as-of 9223372036854775808 is not a snapshot id: it is larger than any 64-bit snapshot id. ${FIX}`],
  ])('rejects %j with one line and exit status 2', (value, line) => {
    expect(usageLine(() => checkAsOf(value))).toBe(line);
  });

  it('takes only the detector settings, as NAME=VALUE', () => {
    expect(checkReprocessSettings(['threshold=3.0', 'min_periods=20'])).toEqual(['threshold=3.0', 'min_periods=20']);
    for (const bad of ['watermark=1 minute', 'threshold']) {
      expect(usageLine(() => checkReprocessSettings([bad]))).toBe(
        `coattail: --set '${bad}' does not apply: reprocess takes threshold, anomaly_threshold, min_periods, anomaly_min_periods as NAME=VALUE. Write it like --set threshold=3.0`,
      );
    }
  });

  it('runs python -m coattail_jobs reprocess-anomalies with an argument array', () => {
    expect(reprocessArgs('2024-05-01T12:00:00Z', ['threshold=3.0', 'min_periods=20'], '/w h', '/r/out.json')).toEqual([
      '-m',
      'coattail_jobs',
      'reprocess-anomalies',
      '--as-of',
      '2024-05-01T12:00:00Z',
      '--warehouse',
      '/w h',
      '--report',
      '/r/out.json',
      '--set',
      'threshold=3.0',
      '--set',
      'min_periods=20',
    ]);
  });
});

const REPORT: ReprocessReport = {
  job: 'reprocess-anomalies',
  as_of: '5301479425378617361',
  as_of_kind: 'snapshot_id',
  snapshot_id: '5301479425378617361',
  snapshot_committed_at: '2024-05-01T11:59:58.123Z',
  trades: 10,
  windows: 10,
  symbols: [
    { symbol: 'BTC-USDT', matched: 1, only_original: 1, only_reprocessed: 0 },
    { symbol: 'ETH-USDT', matched: 0, only_original: 0, only_reprocessed: 1 },
  ],
  total: { matched: 1, only_original: 1, only_reprocessed: 1 },
  original_outside_span: 3,
  only_original_ids: ['volume_anomaly:binance:BTC-USDT:2024-01-01T00:02:00.000Z'],
  only_reprocessed_ids: ['volume_anomaly:coinbase:ETH-USDT:2024-01-01T00:04:00.000Z'],
  report: '/home/me/.coattail/reprocess/5301479425378617361.json',
};

const RENDERED = `raw_trades as of 5301479425378617361: snapshot 5301479425378617361 (committed 2024-05-01T11:59:58.123Z), 10 trades in 10 windows
┌──────────┬─────────┬───────────────┬──────────────────┐
│ SYMBOL   │ MATCHED │ ONLY ORIGINAL │ ONLY REPROCESSED │
├──────────┼─────────┼───────────────┼──────────────────┤
│ BTC-USDT │       1 │             1 │                0 │
├──────────┼─────────┼───────────────┼──────────────────┤
│ ETH-USDT │       0 │             0 │                1 │
├──────────┼─────────┼───────────────┼──────────────────┤
│ TOTAL    │       1 │             1 │                1 │
└──────────┴─────────┴───────────────┴──────────────────┘
not compared: 3 original anomalies outside the windows this snapshot covers
only original: volume_anomaly:binance:BTC-USDT:2024-01-01T00:02:00.000Z
only reprocessed: volume_anomaly:coinbase:ETH-USDT:2024-01-01T00:04:00.000Z
report: /home/me/.coattail/reprocess/5301479425378617361.json
`;

describe('coattail reprocess: the comparison', () => {
  it('renders one row per symbol, a total, and the ids that differ', () => {
    expect(renderComparison(REPORT)).toBe(RENDERED);
  });

  it('lists at most ten ids of each kind', () => {
    const ids = Array.from({ length: 12 }, (_, i) => `id${i + 1}`);
    const text = renderComparison({ ...REPORT, only_original_ids: ids, only_reprocessed_ids: [] });
    expect(text).toContain('\nonly original: id1, id2, id3, id4, id5, id6, id7, id8, id9, id10 (and 2 more in the report)\n');
    expect(text).not.toContain('only reprocessed:');
  });

  it('takes the last stdout line as the report and refuses anything else with one line', () => {
    expect(parseReport(`noise\n${JSON.stringify(REPORT)}\n`).report).toEqual(REPORT);
    expect(() => parseReport('Traceback (most recent call last)\n')).toThrow(
      'the reprocessing printed no report: its last line on stdout is not JSON: Traceback (most recent call last)',
    );
    expect(() => parseReport(JSON.stringify({ ...REPORT, total: { matched: -1, only_original: 0, only_reprocessed: 0 } }))).toThrow(
      /printed a report of another shape: total\.matched: /,
    );
  });
});

/** A stand-in interpreter: records its arguments, prints the report (or fails like the Python side does). */
function fakePython(dir: string, exitCode: number): StandInPython {
  return standInPython(
    dir,
    `process.stderr.write('spark: starting\\n');
if (${exitCode} !== 0) {
  process.stderr.write('coattail_jobs: --as-of 2020-01-01T00:00:00Z is before the first snapshot of coattail.crypto_pulse.raw_trades (2024-05-01T11:59:58.123Z): pass a time at or after it, or a snapshot id\\n');
  process.exit(${exitCode});
}
console.log(${JSON.stringify(JSON.stringify(REPORT))});`,
  );
}

describe('coattail reprocess: running the job', () => {
  it('runs the job in the working folder, renders its report as a table, or passes the JSON on with --json', async () => {
    const cwd = tempDir('reprocess');
    const stand = fakePython(cwd, 0);
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } });
    expect(await reprocess({ asOf: '5301479425378617361', set: ['threshold=3.0'], warehouse: 'wh', report: 'out/r.json' }, ctx)).toBe(0);
    expect(stand.seen()).toEqual({
      argv: [
        '-m',
        'coattail_jobs',
        'reprocess-anomalies',
        '--as-of',
        '5301479425378617361',
        '--warehouse',
        path.join(cwd, 'wh'),
        '--report',
        path.join(cwd, 'out/r.json'),
        '--set',
        'threshold=3.0',
      ],
      cwd,
    });
    expect(ctx.out.text()).toBe(RENDERED);
    expect(ctx.err.text()).toBe('spark: starting\n');

    const json = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } });
    expect(await reprocess({ asOf: '5301479425378617361', json: true }, json)).toBe(0);
    expect(stand.seen().argv).toEqual([
      '-m',
      'coattail_jobs',
      'reprocess-anomalies',
      '--as-of',
      '5301479425378617361',
      '--warehouse',
      path.join(cwd, '.coattail/warehouse'),
    ]);
    expect(JSON.parse(json.out.text())).toEqual(REPORT);
    expect(json.out.lines()).toHaveLength(1);
  });

  it("passes the Python side's status and one line through, and starts nothing for a bad argument", async () => {
    const cwd = tempDir('reprocess');
    const stand = fakePython(cwd, 2);
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } });
    expect(await reprocess({ asOf: '2020-01-01T00:00:00Z' }, ctx)).toBe(2);
    expect(ctx.out.text()).toBe('');
    expect(ctx.err.lines()).toEqual([
      'spark: starting',
      'coattail_jobs: --as-of 2020-01-01T00:00:00Z is before the first snapshot of coattail.crypto_pulse.raw_trades (2024-05-01T11:59:58.123Z): pass a time at or after it, or a snapshot id',
    ]);

    rmSync(stand.record);
    await expect(
      reprocess({ asOf: 'last tuesday' }, testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } })),
    ).rejects.toThrow(CoattailError);
    expect(existsSync(stand.record)).toBe(false);
  });
});

describe('coattail reprocess --emr', () => {
  const APP = '00fabc123def4567';
  const ROLE = 'arn:aws:iam::123456789012:role/coattail-emr';
  const RUN = '00fr1234abcd';

  function fakeRoot(): string {
    const root = tempDir('reprocess');
    mkdirSync(path.join(root, 'jobs-py', 'coattail_jobs'), { recursive: true });
    writeFileSync(path.join(root, 'jobs-py', 'coattail_jobs', '__init__.py'), 'VERSION = 1\n');
    writeFileSync(path.join(root, 'jobs-py', 'emr_main.py'), 'main()\n');
    writeFileSync(
      path.join(root, 'jobs-py', 'emr-spark-conf.json'),
      JSON.stringify({ 'spark.sql.catalog.coattail.warehouse': 's3://${bucket}/warehouse' }),
    );
    return root;
  }

  it('submits reprocess-anomalies as a BATCH run with --mode emr and the arguments, through jobs submit', async () => {
    const emr = new EMRServerlessClient({ region: 'eu-west-1' });
    const s3 = new S3Client({ region: 'eu-west-1' });
    const emrMock = mockClient(emr);
    const s3Mock = mockClient(s3);
    s3Mock.on(HeadObjectCommand).resolves({});
    emrMock.on(StartJobRunCommand).resolves({
      applicationId: APP,
      jobRunId: RUN,
      arn: `arn:aws:emr-serverless:eu-west-1:123456789012:/applications/${APP}/jobruns/${RUN}`,
    });
    const ctx = testContext({ cwd: tempDir('reprocess') });
    const code = await reprocess(
      {
        asOf: '2024-05-01T12:00:00Z',
        set: ['threshold=3.0'],
        report: 's3://my-coattail/coattail/reprocess/may.json',
        emr: true,
        applicationId: APP,
        executionRoleArn: ROLE,
        bucket: 'my-coattail',
        region: 'eu-west-1',
        warehouse: 'ignored',
      },
      ctx,
      { emr, s3, root: fakeRoot(), sleep: async () => {}, pollMs: 1 },
    );
    expect(code).toBe(0);
    expect(ctx.out.text()).toBe(`${RUN}\n`);
    const calls = emrMock.commandCalls(StartJobRunCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.mode).toBe('BATCH');
    expect(input.name).toBe('coattail-reprocess-anomalies');
    expect(input.jobDriver?.sparkSubmit?.entryPointArguments).toEqual([
      'reprocess-anomalies',
      '--mode',
      'emr',
      '--as-of',
      '2024-05-01T12:00:00Z',
      '--report',
      's3://my-coattail/coattail/reprocess/may.json',
      '--set',
      'threshold=3.0',
    ]);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0); // the bundle was there already
  });

  it('--wait: the default report location in the bucket, read back once the run succeeded and printed as the table', async () => {
    const emr = new EMRServerlessClient({ region: 'eu-west-1' });
    const s3 = new S3Client({ region: 'eu-west-1' });
    const emrMock = mockClient(emr);
    const s3Mock = mockClient(s3);
    s3Mock.on(HeadObjectCommand).resolves({});
    const job = (state: JobRunState): { jobRun: JobRun } => ({
      jobRun: {
        applicationId: APP,
        jobRunId: RUN,
        name: 'coattail-reprocess-anomalies',
        arn: 'arn',
        createdBy: 'me',
        createdAt: new Date(),
        updatedAt: new Date(),
        executionRole: ROLE,
        state,
        stateDetails: '',
        releaseLabel: 'emr-7.5.0',
        jobDriver: undefined,
      },
    });
    emrMock.on(StartJobRunCommand).resolves({ applicationId: APP, jobRunId: RUN, arn: 'arn' });
    emrMock.on(GetJobRunCommand).resolvesOnce(job('RUNNING')).resolvesOnce(job('SUCCESS'));
    emrMock.on(GetDashboardForJobRunCommand).resolves({ url: 'https://ui' });
    const text = `${JSON.stringify(REPORT, null, 2)}\n`; // as the job writes it
    const body = { transformToString: async () => text } as unknown as GetObjectCommandOutput['Body'];
    s3Mock.on(GetObjectCommand).resolves({ Body: body });
    const ctx = testContext({ cwd: tempDir('reprocess') });
    const code = await reprocess(
      {
        asOf: '2024-05-01T12:00:00Z',
        emr: true,
        wait: true,
        applicationId: APP,
        executionRoleArn: ROLE,
        bucket: 'my-coattail',
        region: 'eu-west-1',
      },
      ctx,
      { emr, s3, root: fakeRoot(), sleep: async () => {}, pollMs: 1 },
    );
    expect(code).toBe(0);
    // ':' is not kept in the key, as the job's own default file name does.
    const key = 'coattail/reprocess/2024-05-01T12-00-00Z.json';
    const args = emrMock.commandCalls(StartJobRunCommand)[0]!.args[0].input.jobDriver?.sparkSubmit?.entryPointArguments;
    expect(args).toEqual([
      'reprocess-anomalies',
      '--mode',
      'emr',
      '--as-of',
      '2024-05-01T12:00:00Z',
      '--report',
      `s3://my-coattail/${key}`,
    ]);
    expect(s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: 'my-coattail', Key: key }]);
    // The run id, then the same table a local run prints.
    expect(ctx.out.text()).toBe(`${RUN}\n${renderComparison(REPORT)}`);
  });

  it.each([
    [
      's3://my-coattail/',
      'coattail: --report s3://my-coattail/ names no object: the report is one JSON file in the bucket. Pass --report s3://<bucket>/coattail/reprocess/<name>.json',
    ],
    ['s3://My_Bucket/r.json', "coattail: --report 'My_Bucket' is not valid"],
  ])('refuses --report %s with --emr before calling AWS', async (report, line) => {
    const emr = new EMRServerlessClient({ region: 'eu-west-1' });
    const emrMock = mockClient(emr);
    const err = (await reprocess({ asOf: '1', emr: true, report, applicationId: APP }, testContext({ cwd: tempDir('reprocess') }), {
      emr,
    }).catch((e: unknown) => e)) as CoattailError;
    expect(err).toBeInstanceOf(CoattailError);
    expect(err.line().startsWith(line)).toBe(true);
    expect(err.exitCode).toBe(2);
    expect(emrMock.calls()).toHaveLength(0);
  });

  it('refuses a local --report with --emr before calling AWS', async () => {
    const emr = new EMRServerlessClient({ region: 'eu-west-1' });
    const emrMock = mockClient(emr);
    const err = (await reprocess(
      { asOf: '1', emr: true, report: 'r.json', applicationId: APP },
      testContext({ cwd: tempDir('reprocess') }),
      { emr },
    ).catch((e: unknown) => e)) as CoattailError;
    expect(err.line()).toBe(
      "coattail: --report r.json is not on S3: with --emr the report is written by the job's driver, whose disk vanishes with the run. Pass --report s3://<bucket>/coattail/reprocess/<name>.json, or leave it out for the default there",
    );
    expect(err.exitCode).toBe(2);
    expect(emrMock.calls()).toHaveLength(0);
  });
});

describe('coattail reprocess with the real jobs', () => {
  const venv = path.join(packageRoot(), 'jobs-py', '.venv', 'bin', 'python');

  // A whole reprocessing (a warehouse with two snapshots, Spark, Iceberg) is proven by jobs-py/tests/
  // test_reprocess.py; here one real Spark start checks the wiring: the arguments, the warehouse, the one
  // line and the status 2 of the Python side, and a stdout free of the JVM's chatter.
  it('answers an empty warehouse with one line and status 2', { timeout: 240_000 }, async () => {
    expect(existsSync(venv), 'the jobs need their Python environment: run make install-py').toBe(true);
    const cwd = tempDir('reprocess');
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: venv } });
    expect(await reprocess({ asOf: '2024-05-01T12:00:00Z', warehouse: 'wh' }, ctx)).toBe(2);
    expect(ctx.out.text()).toBe('');
    expect(ctx.err.lines()).toContain(
      'coattail_jobs: no table coattail.crypto_pulse.raw_trades: there is nothing to reprocess; archive trades first (raw-archiver)',
    );
  });
});
