import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Absolute paths of the Kinesis emulator (kinesis-mock compiled to JS) and its TLS certificate. */
export function kinesisLocalPaths(): { main: string; cert: string } {
  const main = require.resolve('kinesis-local/main.js');
  // It resolves a relative cert path against the working directory and dies, so always absolute.
  return { main, cert: path.join(path.dirname(main), 'server.json') };
}

export interface KinesisEmulatorOptions {
  port: number;
  tlsPort: number;
  /** Streams to create at start: `name:shards`. */
  initializeStreams?: string[];
  /** Persist data under this folder so a restart keeps the stream's records. */
  persistDir?: string;
  logFile?: string;
  detached?: boolean;
  region?: string;
}

export function spawnKinesisEmulator(opts: KinesisEmulatorOptions): ChildProcess {
  const { main, cert } = kinesisLocalPaths();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KINESIS_MOCK_PLAIN_PORT: String(opts.port),
    KINESIS_MOCK_TLS_PORT: String(opts.tlsPort),
    KINESIS_MOCK_CERT_PATH: cert,
    CREATE_STREAM_DURATION: '0ms',
    DELETE_STREAM_DURATION: '0ms',
    UPDATE_SHARD_COUNT_DURATION: '0ms',
    LOG_LEVEL: 'WARN',
    AWS_REGION: opts.region ?? 'us-east-1',
  };
  if (opts.initializeStreams?.length) env.INITIALIZE_STREAMS = opts.initializeStreams.join(',');
  if (opts.persistDir) {
    env.SHOULD_PERSIST_DATA = 'true';
    env.LOAD_DATA_IF_EXISTS = 'true';
    env.PERSIST_PATH = opts.persistDir;
    env.PERSIST_INTERVAL = '1s';
  }
  const out = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [main], {
    env,
    detached: opts.detached ?? false,
    stdio: ['ignore', out, out],
  });
  if (typeof out === 'number') closeSync(out);
  return child;
}

/** True when something accepts a TCP connection on host:port right now. */
export async function portAnswers(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Resolves once something accepts TCP connections on host:port; rejects after timeoutMs, or with the
 * signal's reason as soon as it aborts (e.g. the process that should listen has exited).
 */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 30_000, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(`stopped waiting for ${host}:${port}`);
    if (await portAnswers(port, host)) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * True when this process could listen on the port. Without a host it binds every interface, which
 * also fails when anything listens on the loopback address alone (and the other way round).
 */
export async function isPortFree(port: number, host?: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(false);
      else reject(err);
    });
    srv.listen({ port, ...(host ? { host } : {}), exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const hasProcfs = existsSync('/proc/self/stat');

/**
 * True when the process exists and is not a zombie. A detached emulator outlives the `coattail`
 * that started it; if no init process reaps it after it dies, signal 0 still succeeds on the zombie.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!hasProcfs) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name (which may itself contain spaces or parentheses).
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false; // gone between the two checks
  }
}

/** The command line of a live process (arguments joined by spaces), or undefined when there is none. */
export function processCommandLine(pid: number): string | undefined {
  if (!isProcessAlive(pid)) return undefined;
  try {
    if (hasProcfs) {
      const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return raw ? raw.split('\0').join(' ').trim() : undefined;
    }
    // No procfs (macOS): ask ps.
    const out = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim() || undefined;
  } catch {
    return undefined; // exited meanwhile
  }
}

/**
 * The compiled dynalite server script. Under vitest this module runs from its TypeScript source,
 * which node cannot spawn, so the build output under dist/ is used instead.
 */
export function dynaliteServerScript(moduleUrl: string = import.meta.url): string {
  const here = path.dirname(fileURLToPath(moduleUrl));
  if (moduleUrl.endsWith('.ts')) return path.resolve(here, '..', '..', 'dist', 'src', 'local', 'dynalite-server.js');
  return path.join(here, 'dynalite-server.js');
}

export interface DynaliteOptions {
  port: number;
  /** Keep tables on disk under this folder; in memory when unset. */
  dataDir?: string;
  logFile?: string;
  detached?: boolean;
}

export function spawnDynalite(opts: DynaliteOptions): ChildProcess {
  const script = dynaliteServerScript();
  if (!existsSync(script)) throw new Error(`${script} is missing; run 'npm run build'`);
  const args = [script, '--port', String(opts.port), ...(opts.dataDir ? ['--path', opts.dataDir] : [])];
  const out = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, args, { detached: opts.detached ?? false, stdio: ['ignore', out, out] });
  if (typeof out === 'number') closeSync(out);
  return child;
}

/** kinesis-local ignores SIGTERM and SIGINT: ask, then SIGKILL after a grace period. */
export async function stopProcess(pid: number, graceMs = 1_000): Promise<void> {
  const alive = (): boolean => isProcessAlive(pid);
  if (!alive()) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    while (alive()) await new Promise((r) => setTimeout(r, 20));
  }
}
