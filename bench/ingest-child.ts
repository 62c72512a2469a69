/**
 * The producer benchmark's child processes: the `coattail ingest` binary run with --json and JSON logs
 * (its stats lines read as they come), its memory sampled from /proc, and every process it started
 * killed on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/coattail', import.meta.url));
const SYMBOLS = 'BTC-USDT,ETH-USDT,SOL-USDT';
/** The ingesters' logs, kept for a look after a run that went wrong. */
export const LOG_DIR = path.join(tmpdir(), 'coattail-bench-producer');

// ---------- child processes: cleaned up on failure and on Ctrl-C ----------

/** kinesis-local ignores SIGINT and SIGTERM, so an interrupted benchmark kills what it started itself. */
const children = new Set<ChildProcess>();

export function track(proc: ChildProcess): ChildProcess {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

export function killChildrenAndExit(signal: NodeJS.Signals): void {
  for (const c of children) c.kill('SIGKILL');
  process.stderr.write(`producer benchmark: ${signal}, its processes killed\n`);
  process.exit(130);
}

// ---------- the ingest process and its memory ----------

export interface IngestChild {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
  /** Highest `buffered` and latest `received` from its stats lines. */
  stats: { maxBuffered: number | null; received: number | null };
}

export function spawnIngest(name: string, args: string[]): IngestChild {
  const proc = track(
    spawn(process.execPath, [BIN, 'ingest', '--json', '--symbols', SYMBOLS, ...args], {
      env: { ...process.env, COATTAIL_LOG_FORMAT: 'json', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  mkdirSync(LOG_DIR, { recursive: true });
  proc.stderr!.pipe(createWriteStream(path.join(LOG_DIR, `${name}.log`)));
  let out = '';
  let err = '';
  let partial = '';
  const stats: IngestChild['stats'] = { maxBuffered: null, received: null };
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => {
    const text = d.toString();
    err += text;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('"msg":"stats"')) continue;
      const s = JSON.parse(line) as { buffered?: number; received?: number };
      if (typeof s.buffered === 'number') stats.maxBuffered = Math.max(stats.maxBuffered ?? 0, s.buffered);
      if (typeof s.received === 'number') stats.received = s.received;
    }
  });
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, stdout: () => out, stderr: () => err, exit, stats };
}

/** VmRSS and VmHWM (peak) in bytes, or undefined once the process is gone. */
function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  const rss = kb('VmRSS');
  const hwm = kb('VmHWM');
  // A zombie has no memory lines: treat it as gone.
  return Number.isFinite(rss) && Number.isFinite(hwm) ? { rss, hwm } : undefined;
}

/** Samples every 100 ms; `hwm` is the last VmHWM read: the peak up to 100 ms before the exit. */
export function watchMemory(pid: number): { maxRss: () => number; hwm: () => number; stop: () => void } {
  let maxRss = 0;
  let hwm = 0;
  const sample = (): void => {
    const m = memoryOf(pid);
    if (!m) return;
    maxRss = Math.max(maxRss, m.rss);
    hwm = Math.max(hwm, m.hwm);
  };
  sample();
  const timer = setInterval(sample, 100);
  return { maxRss: () => maxRss, hwm: () => hwm, stop: () => clearInterval(timer) };
}

export async function exitWithin(child: IngestChild, ms: number, name: string, context: () => string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([child.exit, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]);
  clearTimeout(timer);
  if (code === 0) return;
  const tail = child.stderr().split('\n').slice(-5).join('\n');
  throw new Error(
    `${name}: ingest ${code === 'timeout' ? `still running after ${ms} ms` : `exited ${code}`} (${context()}; its log: ${LOG_DIR}/${name}.log)\n${tail}`,
  );
}

/** The --json summary: the one line with a stop_reason, on stdout or stderr (logs are JSON lines too). */
export function ingestSummary(child: IngestChild): Record<string, unknown> {
  const lines = `${child.stdout()}\n${child.stderr()}`.split('\n').filter((l) => l.startsWith('{"stop_reason"'));
  const line = lines.at(-1);
  if (line === undefined) throw new Error(`the ingester printed no --json summary; its log: ${LOG_DIR}`);
  return JSON.parse(line) as Record<string, unknown>;
}
