/**
 * Starting the two local emulators, for `coattail local up` (kept running, data on disk) and the demo (its
 * own, in memory): the Kinesis emulator (kinesis-local) and the DynamoDB-compatible store (dynalite), each
 * a detached process; then the stream and the alert table on them.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createDynamoClient } from '../aws/dynamodb.js';
import { createKinesisClient } from '../aws/kinesis.js';
import { CoattailError, errorMessage } from '../core/errors.js';
import { spawnDynalite, spawnKinesisEmulator, waitForPort } from './processes.js';
import { ensureAlertsTable, ensureStream, type StreamInfo } from './resources.js';
import { EMULATOR_LABELS, type EmulatorName } from './state.js';

/** kinesis-local needs several seconds to boot on a busy machine. */
export const EMULATOR_START_TIMEOUT_MS = 60_000;
/** kinesis-local ignores SIGTERM, so waiting only delays the SIGKILL; dynalite closes within 2 s. */
export const EMULATOR_STOP_GRACE_MS: Record<EmulatorName, number> = { kinesis: 250, dynamodb: 3_000 };

export interface EmulatorSpawn {
  port: number;
  /** The Kinesis emulator's TLS port (it always opens one). */
  tlsPort?: number | undefined;
  /** Keep the data in this folder across restarts; in memory when unset. */
  dataDir?: string | undefined;
  logFile: string;
  region: string;
}

/** Starts one emulator as a detached process (its own process group). */
export function spawnEmulator(name: EmulatorName, s: EmulatorSpawn): ChildProcess {
  if (s.dataDir) mkdirSync(s.dataDir, { recursive: true });
  return name === 'kinesis'
    ? spawnKinesisEmulator({
        port: s.port,
        tlsPort: s.tlsPort ?? s.port + 1,
        persistDir: s.dataDir,
        logFile: s.logFile,
        detached: true,
        region: s.region,
      })
    : spawnDynalite({ port: s.port, dataDir: s.dataDir, logFile: s.logFile, detached: true });
}

/**
 * Waits until the child listens on its port; fails fast when it exits or fails to spawn, and with
 * `interrupted()` as soon as the signal aborts.
 */
export async function waitUntilListening(
  name: EmulatorName,
  child: ChildProcess,
  where: { port: number; logFile: string },
  signal: AbortSignal,
  interrupted: () => CoattailError,
): Promise<void> {
  const fail = (why: string): CoattailError =>
    new CoattailError(`the ${EMULATOR_LABELS[name]} did not start on port ${where.port}`, why, `See its log ${where.logFile}`);
  const stop = new AbortController();
  const onExit = (code: number | null, sig: NodeJS.Signals | null): void =>
    stop.abort(fail(`it exited (${code !== null ? `code ${code}` : `signal ${sig}`})`));
  const onError = (err: Error): void => stop.abort(fail(errorMessage(err)));
  const onAbort = (): void => stop.abort(interrupted());
  child.once('exit', onExit);
  child.once('error', onError);
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  try {
    await waitForPort(where.port, '127.0.0.1', EMULATOR_START_TIMEOUT_MS, stop.signal);
  } catch (err) {
    throw err instanceof CoattailError ? err : fail(errorMessage(err));
  } finally {
    child.off('exit', onExit);
    child.off('error', onError);
    signal.removeEventListener('abort', onAbort);
  }
}

export interface EmulatorResources {
  kinesisEndpoint: string;
  dynamodbEndpoint: string;
  region: string;
  stream: string;
  shards: number;
  alertsTable?: string | undefined;
  signal: AbortSignal;
}

/** The stream and the alert table on running emulators (each left as it is when it exists). */
export async function ensureEmulatorResources(r: EmulatorResources): Promise<StreamInfo & { created: boolean }> {
  const kinesis = createKinesisClient({ endpoint: r.kinesisEndpoint, region: r.region, local: true });
  const dynamo = createDynamoClient({ endpoint: r.dynamodbEndpoint, region: r.region, local: true });
  try {
    const info = await ensureStream(kinesis, r.stream, r.shards, { signal: r.signal, timeoutMs: EMULATOR_START_TIMEOUT_MS });
    await ensureAlertsTable(dynamo, {
      signal: r.signal,
      timeoutMs: EMULATOR_START_TIMEOUT_MS,
      ...(r.alertsTable ? { tableName: r.alertsTable } : {}),
    });
    return info;
  } finally {
    kinesis.destroy();
    dynamo.destroy();
  }
}
