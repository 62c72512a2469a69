/**
 * `coattail local up / down / status` against the real emulators, started as real background
 * processes on free ports with a temporary state directory. The handlers run in-process; the
 * binary is spawned once for what needs a process (stdout/stderr split, exit codes).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { localDown } from '../../src/commands/local/down.js';
import { localStatus } from '../../src/commands/local/status.js';
import { localUp, pickTlsPort } from '../../src/commands/local/up.js';
import { localEndpoints, readLocalState } from '../../src/local/state.js';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { createDynamoClient } from '../../src/aws/dynamodb.js';
import type { CommandContext } from '../../src/core/context.js';
import { CoattailError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { freePort } from '../../src/local/processes.js';
import { REPO_ROOT } from '../helpers/paths.js';

const repoRoot = REPO_ROOT;
const tempDirs: string[] = [];
/** Every emulator pid any test saw, killed in afterAll whatever happened. */
const seenPids = new Set<number>();

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coattail-local-'));
  tempDirs.push(dir);
  return dir;
}

interface Captured {
  ctx: CommandContext;
  stdout: () => string;
  stderr: () => string;
}

function testContext(cwd: string): Captured {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void): Writable =>
    new Writable({
      write(chunk, _enc, cb) {
        append(String(chunk));
        cb();
      },
    });
  const stderr = sink((s) => (err += s));
  return {
    ctx: {
      stdout: sink((s) => (out += s)),
      stderr,
      env: {},
      clock: { now: () => Date.now() },
      logger: createLogger(stderr, { level: 'debug' }),
      signal: new AbortController().signal,
      cwd,
    },
    stdout: () => out,
    stderr: () => err,
  };
}

/** Gone, or a zombie nobody reaps (the binary's children are re-parented to an init that may not reap). */
function pidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function rememberPids(stateDir: string): void {
  const state = readLocalState(stateDir);
  for (const pid of [state?.kinesis.pid, state?.dynamodb.pid]) if (pid) seenPids.add(pid);
}

afterAll(async () => {
  for (const dir of tempDirs) {
    const stateDir = path.join(dir, '.coattail', 'local');
    if (existsSync(path.join(stateDir, 'state.json'))) {
      try {
        await localDown({ stateDir }, testContext(dir).ctx);
      } catch {
        /* the pids below are killed anyway */
      }
    }
  }
  for (const pid of seenPids) {
    const cmd = cmdline(pid);
    if (!pidGone(pid) && (cmd.includes('kinesis-local') || cmd.includes('dynalite-server'))) process.kill(pid, 'SIGKILL');
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('pickTlsPort', () => {
  it('takes the plain port + 1 when it is free', async () => {
    expect(
      await pickTlsPort(
        4568,
        [8000],
        async () => true,
        async () => 9999,
      ),
    ).toBe(4569);
  });
  it('falls back to another free port when + 1 is taken, wanted by the store, or out of range', async () => {
    expect(
      await pickTlsPort(
        4568,
        [],
        async (p) => p !== 4569,
        async () => 6000,
      ),
    ).toBe(6000);
    expect(
      await pickTlsPort(
        4568,
        [4569],
        async () => true,
        async () => 5000,
      ),
    ).toBe(5000);
    expect(
      await pickTlsPort(
        65_535,
        [],
        async () => true,
        async () => 7000,
      ),
    ).toBe(7000);
  });
  it('never returns a port it must avoid', async () => {
    const offers = [8000, 4568, 7001];
    expect(
      await pickTlsPort(
        4568,
        [8000, 4569],
        async () => true,
        async () => offers.shift() ?? 0,
      ),
    ).toBe(7001);
  });
});

describe('local up: refusals before anything starts', () => {
  const base = { stateDir: '.coattail/local', kinesisPort: '4568', dynamodbPort: '8000', stream: 'coattail-trades', shards: '2' };

  it.each([
    [{ kinesisPort: 'abc' }, /--kinesis-port 'abc'/],
    [{ dynamodbPort: '70000' }, /--dynamodb-port '70000'.*COATTAIL_DYNAMODB_PORT/],
    [{ shards: '0' }, /--shards '0'/],
    [{ shards: '51' }, /--shards '51'/],
    [{ stream: 'no spaces' }, /--stream 'no spaces'/],
    [{ kinesisPort: '9000', dynamodbPort: '9000' }, /both 9000/],
  ])('usage error for %o', async (bad, message) => {
    const dir = tempDir();
    const { ctx } = testContext(dir);
    const err = await localUp({ ...base, ...bad }, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).exitCode).toBe(2);
    expect((err as CoattailError).line()).toMatch(message);
    expect(existsSync(path.join(dir, '.coattail'))).toBe(false);
  });

  it.each([
    ['kinesisPort', 'Kinesis emulator', '--kinesis-port', 'COATTAIL_KINESIS_PORT'],
    ['dynamodbPort', 'DynamoDB-compatible store', '--dynamodb-port', 'COATTAIL_DYNAMODB_PORT'],
  ] as const)('says which port is taken and how to choose another (%s)', async (option, label, flag, env) => {
    const dir = tempDir();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', () => resolve()));
    const taken = (squatter.address() as net.AddressInfo).port;
    try {
      const { ctx } = testContext(dir);
      const ports = { kinesisPort: String(await freePort()), dynamodbPort: String(await freePort()), [option]: String(taken) };
      const err = await localUp({ ...base, ...ports }, ctx).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CoattailError);
      expect((err as CoattailError).line()).toBe(
        `coattail: cannot start the ${label} on port ${taken}: another program already listens on it. ` +
          `Stop that program, or choose another port with ${flag} <port> (or ${env}=<port>)`,
      );
      // Refused before starting anything: no state recorded.
      expect(readLocalState(path.join(dir, '.coattail', 'local'))).toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});

describe('local up / status / down, in-process', () => {
  const dir = tempDir();
  const stateDir = path.join(dir, '.coattail', 'local');
  let kinesisPort = 0;
  let dynamodbPort = 0;
  let first: { kinesisPid: number; dynamodbPid: number };
  const upOptions = (): Parameters<typeof localUp>[0] => ({
    stateDir: '.coattail/local', // relative: resolved against the context's cwd
    kinesisPort: String(kinesisPort),
    dynamodbPort: String(dynamodbPort),
    stream: 'local-test-trades',
    shards: '3',
    json: true,
  });

  beforeAll(async () => {
    kinesisPort = await freePort();
    dynamodbPort = await freePort();
  });

  it('up starts both emulators, records them, creates the stream and the alert table', async () => {
    const t = testContext(dir);
    const code = await localUp(upOptions(), t.ctx);
    rememberPids(stateDir);
    expect(code).toBe(0);

    const printed = JSON.parse(t.stdout());
    expect(t.stdout().trim().split('\n')).toHaveLength(1);
    expect(printed).toEqual({
      kinesis: { endpoint: `http://127.0.0.1:${kinesisPort}`, pid: expect.any(Number), port: kinesisPort },
      dynamodb: { endpoint: `http://127.0.0.1:${dynamodbPort}`, pid: expect.any(Number), port: dynamodbPort },
      stream: 'local-test-trades',
      tables: ['coattail-alerts'],
      region: 'us-east-1',
      state_dir: stateDir,
    });
    expect(t.stderr()).toContain(`http://127.0.0.1:${kinesisPort}`);
    expect(t.stderr()).toContain(`http://127.0.0.1:${dynamodbPort}`);

    const onDisk = JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8'));
    expect(onDisk.kinesis.pid).toBe(printed.kinesis.pid);
    expect(onDisk.dynamodb.pid).toBe(printed.dynamodb.pid);
    expect(onDisk.kinesis.port).toBe(kinesisPort);
    expect(onDisk.kinesis.tls_port).not.toBe(kinesisPort);
    expect(onDisk.kinesis.tls_port).not.toBe(dynamodbPort);
    expect(onDisk.stream).toBe('local-test-trades');
    expect(onDisk.tables).toEqual(['coattail-alerts']);
    expect(Date.parse(onDisk.kinesis.started_at)).toBeGreaterThan(Date.now() - 120_000);
    expect(existsSync(path.join(stateDir, 'kinesis.log'))).toBe(true);
    expect(existsSync(path.join(stateDir, 'dynamodb.log'))).toBe(true);

    first = { kinesisPid: printed.kinesis.pid, dynamodbPid: printed.dynamodb.pid };
    expect(pidGone(first.kinesisPid)).toBe(false);
    expect(pidGone(first.dynamodbPid)).toBe(false);
    expect(cmdline(first.kinesisPid)).toContain('kinesis-local');
    expect(cmdline(first.dynamodbPid)).toContain('dynalite-server');

    const kinesis = createKinesisClient({ endpoint: `http://127.0.0.1:${kinesisPort}`, region: 'us-east-1' }, {});
    const dynamo = createDynamoClient({ endpoint: `http://127.0.0.1:${dynamodbPort}`, region: 'us-east-1' }, {});
    try {
      const summary = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'local-test-trades' }))).StreamDescriptionSummary;
      expect(summary?.StreamStatus).toBe('ACTIVE');
      expect(summary?.OpenShardCount).toBe(3);

      const table = (await dynamo.send(new DescribeTableCommand({ TableName: 'coattail-alerts' }))).Table;
      expect(table?.TableStatus).toBe('ACTIVE');
      expect(table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table?.KeySchema).toEqual([{ AttributeName: 'alert_id', KeyType: 'HASH' }]);
      expect(table?.GlobalSecondaryIndexes).toHaveLength(1);
      const index = table?.GlobalSecondaryIndexes?.[0];
      expect(index?.IndexName).toBe('by_type_time');
      expect(index?.KeySchema).toEqual([
        { AttributeName: 'alert_type', KeyType: 'HASH' },
        { AttributeName: 'alert_time', KeyType: 'RANGE' },
      ]);
      expect(index?.Projection?.ProjectionType).toBe('ALL');
      expect(index?.IndexStatus).toBe('ACTIVE');
    } finally {
      kinesis.destroy();
      dynamo.destroy();
    }
  }, 120_000);

  it('localEndpoints finds the running emulators', () => {
    expect(localEndpoints(stateDir)).toEqual({
      kinesisEndpoint: `http://127.0.0.1:${kinesisPort}`,
      dynamodbEndpoint: `http://127.0.0.1:${dynamodbPort}`,
      region: 'us-east-1',
      stream: 'local-test-trades',
      tables: ['coattail-alerts'],
    });
  });

  it('up again reuses the running emulators: same pids, same endpoints', async () => {
    const t = testContext(dir);
    expect(await localUp(upOptions(), t.ctx)).toBe(0);
    const printed = JSON.parse(t.stdout());
    expect(printed.kinesis).toEqual({ endpoint: `http://127.0.0.1:${kinesisPort}`, pid: first.kinesisPid, port: kinesisPort });
    expect(printed.dynamodb).toEqual({ endpoint: `http://127.0.0.1:${dynamodbPort}`, pid: first.dynamodbPid, port: dynamodbPort });
    expect(t.stderr()).toContain('already running');
  });

  it('up refuses to move a running emulator to another port', async () => {
    const other = await freePort();
    const err = await localUp({ ...upOptions(), kinesisPort: String(other) }, testContext(dir).ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).line()).toContain(`already runs on port ${kinesisPort}`);
    expect(pidGone(first.kinesisPid)).toBe(false);
  });

  it('status --json reports both running, the stream ACTIVE and the table present', async () => {
    const t = testContext(dir);
    expect(await localStatus({ stateDir, json: true }, t.ctx)).toBe(0);
    const report = JSON.parse(t.stdout());
    expect(report).toEqual({
      state_dir: stateDir,
      region: 'us-east-1',
      ready: true,
      kinesis: {
        status: 'running',
        pid: first.kinesisPid,
        port: kinesisPort,
        endpoint: `http://127.0.0.1:${kinesisPort}`,
        port_answers: true,
        stream: { name: 'local-test-trades', exists: true, status: 'ACTIVE', shards: 3 },
      },
      dynamodb: {
        status: 'running',
        pid: first.dynamodbPid,
        port: dynamodbPort,
        endpoint: `http://127.0.0.1:${dynamodbPort}`,
        port_answers: true,
        tables: [{ name: 'coattail-alerts', exists: true, status: 'ACTIVE' }],
      },
    });
  });

  it('status without --json prints one line per emulator on stdout', async () => {
    const t = testContext(dir);
    expect(await localStatus({ stateDir }, t.ctx)).toBe(0);
    const lines = t.stdout().trim().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^kinesis +running +pid ${first.kinesisPid} +http://127\\.0\\.0\\.1:${kinesisPort} +answers +stream local-test-trades: ACTIVE, 3 shards$`,
      ),
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `^dynamodb +running +pid ${first.dynamodbPid} +http://127\\.0\\.0\\.1:${dynamodbPort} +answers +table coattail-alerts: ACTIVE$`,
      ),
    );
  });

  it('down stops both processes and closes their ports', async () => {
    // Data written now must survive the restart below (persistence under the state dir).
    const kinesis = createKinesisClient({ endpoint: `http://127.0.0.1:${kinesisPort}`, region: 'us-east-1' }, {});
    const dynamo = createDynamoClient({ endpoint: `http://127.0.0.1:${dynamodbPort}`, region: 'us-east-1' }, {});
    try {
      await kinesis.send(new CreateStreamCommand({ StreamName: 'kept-across-restarts', ShardCount: 1 }));
      await dynamo.send(
        new PutItemCommand({
          TableName: 'coattail-alerts',
          Item: { alert_id: { S: 'whale:binance:BTC-USDT:1' }, alert_type: { S: 'whale' }, alert_time: { S: '2024-05-01T12:00:00.000Z' } },
        }),
      );
    } finally {
      kinesis.destroy();
      dynamo.destroy();
    }
    // kinesis-local persists on an interval: wait until the new stream is on disk.
    await expect
      .poll(
        () =>
          readdirSync(path.join(stateDir, 'kinesis')).some((f) =>
            readFileSync(path.join(stateDir, 'kinesis', f), 'utf8').includes('kept-across-restarts'),
          ),
        { timeout: 10_000, interval: 200 },
      )
      .toBe(true);

    const t = testContext(dir);
    expect(await localDown({ stateDir: '.coattail/local' }, t.ctx)).toBe(0);
    expect(t.stderr()).toContain(`stopped dynamodb (pid ${first.dynamodbPid}), kinesis (pid ${first.kinesisPid})`);
    await expect.poll(() => pidGone(first.kinesisPid), { timeout: 5_000 }).toBe(true);
    await expect.poll(() => pidGone(first.dynamodbPid), { timeout: 5_000 }).toBe(true);
    expect(await portOpen(kinesisPort)).toBe(false);
    expect(await portOpen(dynamodbPort)).toBe(false);
    const onDisk = JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8'));
    expect(onDisk.kinesis.pid).toBeNull();
    expect(onDisk.dynamodb.pid).toBeNull();
  }, 30_000);

  it('down again is fine: nothing running, exit 0', async () => {
    const t = testContext(dir);
    expect(await localDown({ stateDir }, t.ctx)).toBe(0);
    expect(t.stderr()).toContain('nothing running');
  });

  it('status after down: stopped, exit 3', async () => {
    const t = testContext(dir);
    expect(await localStatus({ stateDir, json: true }, t.ctx)).toBe(3);
    const report = JSON.parse(t.stdout());
    expect(report.ready).toBe(false);
    expect(report.kinesis).toMatchObject({ status: 'stopped', pid: null, port: kinesisPort, port_answers: false });
    expect(report.dynamodb).toMatchObject({ status: 'stopped', pid: null, port: dynamodbPort, port_answers: false });
  });

  it('localEndpoints says to run local up when they are stopped', () => {
    expect(() => localEndpoints(stateDir)).toThrow(/local emulators are not running.*Run 'coattail local up'/);
  });

  it('up after down starts new processes that kept the streams and the alerts', async () => {
    const t = testContext(dir);
    expect(await localUp(upOptions(), t.ctx)).toBe(0);
    rememberPids(stateDir);
    const printed = JSON.parse(t.stdout());
    expect(printed.kinesis.pid).not.toBe(first.kinesisPid);
    expect(printed.kinesis.port).toBe(kinesisPort);
    const kinesis = createKinesisClient({ endpoint: `http://127.0.0.1:${kinesisPort}`, region: 'us-east-1' }, {});
    const dynamo = createDynamoClient({ endpoint: `http://127.0.0.1:${dynamodbPort}`, region: 'us-east-1' }, {});
    try {
      const kept = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'kept-across-restarts' }));
      expect(kept.StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
      const item = await dynamo.send(
        new GetItemCommand({ TableName: 'coattail-alerts', Key: { alert_id: { S: 'whale:binance:BTC-USDT:1' } } }),
      );
      expect(item.Item?.alert_time).toEqual({ S: '2024-05-01T12:00:00.000Z' });
    } finally {
      kinesis.destroy();
      dynamo.destroy();
    }
    expect(await localDown({ stateDir }, testContext(dir).ctx)).toBe(0);
    await expect.poll(() => pidGone(printed.kinesis.pid), { timeout: 5_000 }).toBe(true);
  }, 120_000);
});

describe('local up when an emulator dies while starting', () => {
  it('fails fast with its log, and stops the other one it started', async () => {
    const dir = tempDir();
    const stateDir = path.join(dir, '.coattail', 'local');
    // A damaged persistence file makes kinesis-local exit at boot.
    mkdirSync(path.join(stateDir, 'kinesis'), { recursive: true });
    writeFileSync(path.join(stateDir, 'kinesis', 'kinesis-data.json'), 'garbage{');
    const dynamodbPort = await freePort();
    const t = testContext(dir);
    const err = await localUp(
      { stateDir, kinesisPort: String(await freePort()), dynamodbPort: String(dynamodbPort), stream: 's', shards: '1' },
      t.ctx,
    ).catch((e: unknown) => e);
    const dynamoPid = Number(/starting the DynamoDB-compatible store pid=(\d+)/.exec(t.stderr())?.[1]);
    if (dynamoPid) seenPids.add(dynamoPid);

    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).line()).toMatch(/the Kinesis emulator did not start on port \d+: it exited \(code \d+\)/);
    expect((err as CoattailError).line()).toContain(path.join(stateDir, 'kinesis.log'));
    expect(dynamoPid).toBeGreaterThan(0);
    await expect.poll(() => pidGone(dynamoPid), { timeout: 5_000 }).toBe(true);
    expect(await portOpen(dynamodbPort)).toBe(false);
    const state = readLocalState(stateDir);
    expect(state?.kinesis.pid).toBeNull();
    expect(state?.dynamodb.pid).toBeNull();
  }, 60_000);
});

describe('a pid that is no longer ours', () => {
  it('is never signalled: down leaves it alone and status reports stopped', async () => {
    const dir = tempDir();
    const stateDir = path.join(dir, '.coattail', 'local');
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = stranger.pid as number;
      const entry = {
        pid,
        port: 1,
        endpoint: 'http://127.0.0.1:1',
        log_file: '/dev/null',
        data_dir: stateDir,
        started_at: '2024-01-01T00:00:00.000Z',
      };
      mkdirSync(stateDir, { recursive: true });
      writeFileSync(
        path.join(stateDir, 'state.json'),
        JSON.stringify({
          version: 1,
          region: 'us-east-1',
          stream: 's',
          shards: 1,
          tables: ['coattail-alerts'],
          kinesis: { ...entry, tls_port: 2 },
          dynamodb: entry,
          updated_at: '2024-01-01T00:00:00.000Z',
        }),
      );
      const down = testContext(dir);
      expect(await localDown({ stateDir }, down.ctx)).toBe(0);
      expect(down.stderr()).toContain('nothing running');
      expect(pidGone(pid)).toBe(false);

      const status = testContext(dir);
      expect(await localStatus({ stateDir, json: true }, status.ctx)).toBe(3);
      expect(JSON.parse(status.stdout()).kinesis.status).toBe('stopped');
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('a damaged state file is a clear error, not "nothing running"', async () => {
    const dir = tempDir();
    const stateDir = path.join(dir, 'state');
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(path.join(stateDir, 'state.json'), '{"version": 1, "kinesis": ');
    const err = await localDown({ stateDir }, testContext(dir).ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).line()).toContain(`${path.join(stateDir, 'state.json')} is damaged`);
  });

  it('status with no state at all: stopped, exit 3', async () => {
    const dir = tempDir();
    const t = testContext(dir);
    expect(await localStatus({ stateDir: 'nowhere' }, t.ctx)).toBe(3);
    expect(t.stdout()).toContain("run 'coattail local up'");
    expect(() => localEndpoints(path.join(dir, 'nowhere'))).toThrow(/local emulators are not running/);
  });
});

describe('the coattail binary', () => {
  interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
  }
  const run = (args: string[], cwd: string): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'coattail'), ...args], {
        cwd,
        env: { ...process.env, NO_COLOR: '1' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('local up --json prints one JSON object on stdout and people text on stderr; down and status exit codes', async () => {
    const dir = tempDir();
    const stateDir = path.join(dir, '.coattail', 'local');
    const kinesisPort = await freePort();
    const dynamodbPort = await freePort();
    const up = await run(
      ['local', 'up', '--json', '--kinesis-port', String(kinesisPort), '--dynamodb-port', String(dynamodbPort), '--shards', '1'],
      dir,
    );
    rememberPids(stateDir);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout.endsWith('\n')).toBe(true);
    expect(up.stdout.trim().split('\n')).toHaveLength(1);
    const printed = JSON.parse(up.stdout);
    expect(printed.kinesis.endpoint).toBe(`http://127.0.0.1:${kinesisPort}`);
    expect(printed.dynamodb.endpoint).toBe(`http://127.0.0.1:${dynamodbPort}`);
    expect(printed.stream).toBe('coattail-trades');
    expect(printed.state_dir).toBe(stateDir);
    expect(up.stderr).toContain('Local emulators running');
    expect(up.stderr).not.toContain('{');

    const status = await run(['local', 'status'], dir);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`http://127.0.0.1:${kinesisPort}`);

    const down = await run(['local', 'down'], dir);
    expect(down.code).toBe(0);
    expect(down.stderr).toContain('stopped');
    await expect.poll(() => pidGone(printed.kinesis.pid), { timeout: 5_000 }).toBe(true);
    await expect.poll(() => pidGone(printed.dynamodb.pid), { timeout: 5_000 }).toBe(true);

    const after = await run(['local', 'status', '--json'], dir);
    expect(after.code).toBe(3);
    expect(JSON.parse(after.stdout).kinesis.status).toBe('stopped');

    const bad = await run(['local', 'up', '--kinesis-port', 'nope'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^coattail: invalid --kinesis-port 'nope'/);
  }, 120_000);
});
