/**
 * The demo's own emulators: the Kinesis emulator and the DynamoDB-compatible store on free ports, in
 * memory (a demo's stream and alerts start empty), each in its own process group, stopped at the end.
 * They are separate from `coattail local up`'s, so a demo never disturbs (or is disturbed by) those.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createDynamoClient } from '../aws/dynamodb.js';
import { createKinesisClient } from '../aws/kinesis.js';
import { CoattailError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { freePort, spawnDynalite, spawnKinesisEmulator, stopProcess, waitForPort } from '../local/processes.js';
import { ensureAlertsTable, ensureStream } from '../local/resources.js';
import type { ChildGroups } from './children.js';

export interface DemoEmulators {
  region: string;
  kinesisEndpoint: string;
  dynamodbEndpoint: string;
  kinesisPid: number | undefined;
  dynamodbPid: number | undefined;
  stop(): Promise<void>;
}

export interface EmulatorSettings {
  logDir: string;
  region: string;
  stream: string;
  shards: number;
  alertsTable: string;
  signal: AbortSignal;
  logger: Logger;
  children: ChildGroups;
}

/** kinesis-local needs several seconds to boot on a busy machine. */
const START_TIMEOUT_MS = 60_000;
/** kinesis-local ignores SIGTERM, so waiting only delays the SIGKILL; dynalite closes within 2 s. */
const KINESIS_GRACE_MS = 250;
const DYNALITE_GRACE_MS = 3_000;

async function waitListening(label: string, child: ChildProcess, port: number, logFile: string, signal: AbortSignal): Promise<void> {
  const stop = new AbortController();
  const fail = (why: string): CoattailError => new CoattailError(`the ${label} did not start on port ${port}`, why, `See its log ${logFile}`);
  const onExit = (code: number | null, sig: NodeJS.Signals | null): void => stop.abort(fail(`it exited (${code !== null ? `code ${code}` : `signal ${sig}`})`));
  const onError = (err: Error): void => stop.abort(fail(errorMessage(err)));
  const onAbort = (): void => stop.abort(interrupted());
  child.once('exit', onExit);
  child.once('error', onError);
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  try {
    await waitForPort(port, '127.0.0.1', START_TIMEOUT_MS, stop.signal);
  } catch (err) {
    throw err instanceof CoattailError ? err : fail(errorMessage(err));
  } finally {
    child.off('exit', onExit);
    child.off('error', onError);
    signal.removeEventListener('abort', onAbort);
  }
}

export function interrupted(): CoattailError {
  return new CoattailError('demo interrupted', 'a stop was requested while it started', 'Nothing was left running; run coattail demo again', 130);
}

/** Starts both emulators, creates the stream and the alert table; on any failure stops what it started. */
export async function startEmulators(s: EmulatorSettings): Promise<DemoEmulators> {
  const [kinesisPort, tlsPort, dynamoPort] = [await freePort(), await freePort(), await freePort()];
  const kinesisLog = path.join(s.logDir, 'kinesis.log');
  const dynamoLog = path.join(s.logDir, 'dynamodb.log');
  const kinesis = spawnKinesisEmulator({ port: kinesisPort, tlsPort, logFile: kinesisLog, detached: true, region: s.region });
  s.children.add(kinesis.pid, 'Kinesis emulator');
  let dynamo: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all([
      kinesis.pid ? stopProcess(kinesis.pid, KINESIS_GRACE_MS) : undefined,
      dynamo?.pid ? stopProcess(dynamo.pid, DYNALITE_GRACE_MS) : undefined,
    ]);
    s.children.forget(kinesis.pid);
    s.children.forget(dynamo?.pid);
  };
  try {
    dynamo = spawnDynalite({ port: dynamoPort, logFile: dynamoLog, detached: true });
    s.children.add(dynamo.pid, 'DynamoDB-compatible store');
    s.logger.debug('starting the emulators', { kinesis_pid: kinesis.pid, kinesis_port: kinesisPort, dynamodb_pid: dynamo.pid, dynamodb_port: dynamoPort });
    await Promise.all([
      waitListening('Kinesis emulator', kinesis, kinesisPort, kinesisLog, s.signal),
      waitListening('DynamoDB-compatible store', dynamo, dynamoPort, dynamoLog, s.signal),
    ]);
    const emulators: DemoEmulators = {
      region: s.region,
      kinesisEndpoint: `http://127.0.0.1:${kinesisPort}`,
      dynamodbEndpoint: `http://127.0.0.1:${dynamoPort}`,
      kinesisPid: kinesis.pid,
      dynamodbPid: dynamo.pid,
      stop,
    };
    const kinesisClient = createKinesisClient({ endpoint: emulators.kinesisEndpoint, region: s.region, local: true });
    const dynamoClient = createDynamoClient({ endpoint: emulators.dynamodbEndpoint, region: s.region, local: true });
    try {
      await ensureStream(kinesisClient, s.stream, s.shards, { signal: s.signal, timeoutMs: START_TIMEOUT_MS });
      await ensureAlertsTable(dynamoClient, { signal: s.signal, tableName: s.alertsTable, timeoutMs: START_TIMEOUT_MS });
    } finally {
      kinesisClient.destroy();
      dynamoClient.destroy();
    }
    return emulators;
  } catch (err) {
    await stop();
    throw err;
  }
}
