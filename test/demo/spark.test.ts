/**
 * The demo's process handling with real processes standing in for the Spark driver: a small Node
 * script that speaks the pipeline's stdout protocol (`started`, `stopped`) and, in some modes, spawns
 * a grandchild (as the driver spawns its JVM) or ignores SIGTERM.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CoattailError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { isProcessAlive } from '../../src/local/processes.js';
import { ChildGroups, groupMembers } from '../../src/demo/children.js';
import { logTail, SparkPipeline } from '../../src/demo/spark.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'coattail-demo-proc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FAKE_DRIVER = path.join(tmp, 'fake-driver.cjs');
writeFileSync(
  FAKE_DRIVER,
  `
const { spawn } = require('node:child_process');
const mode = process.argv[2];
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
if (mode === 'die') {
  process.stderr.write('starting\\nPy4JJavaError: An error occurred while calling o42.start: java.lang.IllegalStateException: no shards\\n');
  process.exit(1);
}
if (mode === 'silent') { setInterval(() => {}, 1000); return; }
// A grandchild in the same process group, as the driver's JVM is.
const jvm = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
process.stderr.write('jvm ' + jvm.pid + '\\n');
// As the real driver (run_pipeline) does: able to stop cleanly before it says 'started', since the
// demo may send SIGTERM the moment it reads that line.
process.on('SIGTERM', () => {
  if (mode === 'stubborn') return; // keeps running: must be killed with its group
  say({ event: 'stopped', failed: [], rows: { raw_trades: 7, alerts: 2 } });
  jvm.kill('SIGTERM');
  process.exit(0);
});
say({ event: 'started', jobs: ['whale-detector'], queries: ['whale_detector_whales'] });
process.stdout.write('not json: a stray print\\n');
setInterval(() => {}, 1000);
`,
);

function start(mode: string, children: ChildGroups): SparkPipeline {
  return SparkPipeline.start(process.execPath, [FAKE_DRIVER, mode], {
    cwd: tmp,
    env: process.env,
    logFile: path.join(tmp, `${mode}.log`),
    children,
    logger: silentLogger,
  });
}

function jvmPid(logFile: string): number {
  const m = /jvm (\d+)/.exec(readFileSync(logFile, 'utf8'));
  if (!m?.[1]) throw new Error(`no grandchild pid in ${logFile}`);
  return Number(m[1]);
}

const never = new AbortController().signal;
const noTail = (): void => undefined;
const aborted = (): Error => new Error('aborted');

describe('SparkPipeline', () => {
  it('waits for started, runs in its own group, and stops on SIGTERM with the row counts', async () => {
    const children = new ChildGroups();
    try {
      const p = start('polite', children);
      const started = await p.waitStarted(20_000, never, noTail, aborted);
      expect(started.queries).toEqual(['whale_detector_whales']);
      const grandchild = jvmPid(p.logFile);
      expect(groupMembers(p.pid!).sort()).toEqual([p.pid, grandchild].sort());
      expect(children.labels()).toEqual(['Spark jobs']);
      const stopped = await p.stop(10_000);
      expect(stopped).toEqual({ event: 'stopped', failed: [], rows: { raw_trades: 7, alerts: 2 } });
      expect(groupMembers(p.pid!)).toEqual([]);
      expect(isProcessAlive(grandchild)).toBe(false);
      expect(children.labels()).toEqual([]);
    } finally {
      children.killAllNow();
      children.dispose();
    }
  });

  it('kills the whole group when the driver ignores SIGTERM past its grace period', async () => {
    const children = new ChildGroups();
    try {
      const p = start('stubborn', children);
      await p.waitStarted(20_000, never, noTail, aborted);
      const grandchild = jvmPid(p.logFile);
      const began = Date.now();
      expect(await p.stop(500)).toBeUndefined();
      expect(Date.now() - began).toBeGreaterThanOrEqual(500);
      expect(isProcessAlive(p.pid!)).toBe(false);
      expect(isProcessAlive(grandchild)).toBe(false);
    } finally {
      children.killAllNow();
      children.dispose();
    }
  });

  it('a driver that dies while starting: one error line naming the cause and the log, the tail shown', async () => {
    const children = new ChildGroups();
    try {
      const p = start('die', children);
      const shown: string[][] = [];
      const err = await p.waitStarted(20_000, never, (lines) => shown.push(lines), aborted).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CoattailError);
      const line = (err as CoattailError).line();
      expect(line).toContain('the Spark jobs did not start');
      expect(line).toContain('exited with code 1');
      expect(line).toContain('no shards');
      expect(line).toContain(p.logFile);
      expect(shown[0]).toEqual(logTail(p.logFile));
      expect(shown[0]?.[0]).toBe('starting');
    } finally {
      children.killAllNow();
      children.dispose();
    }
  });

  it('gives up waiting after the start timeout, and returns at once on an abort', async () => {
    const children = new ChildGroups();
    try {
      const p = start('silent', children);
      const late = await p.waitStarted(300, never, noTail, aborted).catch((e: unknown) => e);
      expect((late as CoattailError).line()).toContain("no 'started' after");
      const stop = new AbortController();
      stop.abort();
      await expect(p.waitStarted(20_000, stop.signal, noTail, aborted)).rejects.toThrow('aborted');
      await p.stop(200);
      expect(groupMembers(p.pid!)).toEqual([]);
    } finally {
      children.killAllNow();
      children.dispose();
    }
  });
});

describe('ChildGroups', () => {
  it('SIGKILLs every recorded group when the process exits at once (a second Ctrl-C)', async () => {
    // A Node process records a detached group with a grandchild, then exits without stopping it.
    const esm = `
      import { spawn } from 'node:child_process';
      const { ChildGroups } = await import(${JSON.stringify(path.resolve('dist/src/demo/children.js'))});
      const groups = new ChildGroups();
      const leader = spawn('sh', ['-c', 'sleep 600 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
      groups.add(leader.pid, 'test group');
      leader.stdout.once('data', (d) => {
        process.stdout.write(JSON.stringify({ leader: leader.pid, sleeper: Number(String(d).trim()) }) + '\\n');
        process.exit(130);
      });
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', esm], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(130);
    const { leader, sleeper } = JSON.parse(r.stdout) as { leader: number; sleeper: number };
    const deadline = Date.now() + 5_000;
    while ((isProcessAlive(leader) || isProcessAlive(sleeper)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(isProcessAlive(leader)).toBe(false);
    expect(isProcessAlive(sleeper)).toBe(false);
  });

  it('groupMembers lists live members only', async () => {
    const leader = spawn('sh', ['-c', 'sleep 600 & sleep 600'], { detached: true, stdio: 'ignore' });
    try {
      const deadline = Date.now() + 5_000;
      while (groupMembers(leader.pid!).length < 3 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      expect(groupMembers(leader.pid!)).toHaveLength(3);
    } finally {
      process.kill(-leader.pid!, 'SIGKILL');
    }
    const deadline = Date.now() + 5_000;
    while (groupMembers(leader.pid!).length > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(groupMembers(leader.pid!)).toEqual([]);
  });
});
