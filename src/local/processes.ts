import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { openSync, closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

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

/** Resolves once something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
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

/** kinesis-local ignores SIGTERM and SIGINT: ask, then SIGKILL after a grace period. */
export async function stopProcess(pid: number, graceMs = 1_000): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
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
