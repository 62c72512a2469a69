/**
 * Ctrl-C on a running `coattail demo --headless`: everything it started (the Kinesis emulator, the
 * DynamoDB-compatible store, the Spark drivers and their JVMs) is gone when it exits, and it still
 * reports. The binary runs in its own process group and the signal goes to the whole group, as a
 * terminal sends it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'coattail-demo-sigint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Proc {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot: a recycled pid has another. */
  start: string;
  cmd: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // exited, not yet reaped
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return { pid, ppid: Number(fields[1]), start: fields[19] ?? '', cmd };
  } catch {
    return undefined;
  }
}

function allProcs(): Proc[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => readProc(Number(n)))
    .filter((p): p is Proc => p !== undefined);
}

function descendants(root: number): Proc[] {
  const procs = allProcs();
  const out: Proc[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const p of procs) {
      if (p.ppid !== parent) continue;
      out.push(p);
      queue.push(p.pid);
    }
  }
  return out;
}

const alive = (p: Proc): boolean => readProc(p.pid)?.start === p.start;

/** The binary, as an operator runs it. */
function demoCommand(dir: string): string[] {
  return ['bin/coattail', 'demo', '--headless', '--duration', '900', '--dir', dir, '--fresh'];
}

describe('coattail demo and Ctrl-C', () => {
  it(
    'stops everything it started and leaves no process behind',
    async () => {
      const child = spawn(process.execPath, demoCommand(path.join(tmp, 'demo')), {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // Running for real: the emulators, both Spark applications, the market and the ingest.
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('the market simulator runs')) resolve();
        });
        void exited.then((code) => reject(new Error(`the demo exited (${code}) before it ran:\n${stderr}`)));
      });

      const started = descendants(child.pid!);
      const kinds = {
        kinesis: started.filter((p) => p.cmd.includes('kinesis-local')),
        dynalite: started.filter((p) => p.cmd.includes('dynalite-server')),
        drivers: started.filter((p) => p.cmd.includes('coattail_jobs pipeline')),
        jvms: started.filter((p) => p.cmd.includes('java') && p.cmd.includes('SparkSubmit')),
      };
      expect(kinds.kinesis).toHaveLength(1);
      expect(kinds.dynalite).toHaveLength(1);
      expect(kinds.drivers).toHaveLength(2);
      expect(kinds.jvms).toHaveLength(2);

      process.kill(-child.pid!, 'SIGINT');
      const code = await exited;
      expect(code, stderr).toBe(0);
      expect(stdout).toContain('trades in');
      expect(stderr).toContain('stopping (interrupted)');
      const left = started.filter(alive);
      expect(left.map((p) => `${p.pid} ${p.cmd.slice(0, 80)}`)).toEqual([]);
    },
    15 * 60_000,
  );
});
