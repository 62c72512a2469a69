/**
 * The demo's own emulators: the Kinesis emulator and the DynamoDB-compatible store on free ports, in
 * memory (a demo's stream and alerts start empty), each in its own process group, stopped at the end.
 * They are separate from `coattail local up`'s, so a demo never disturbs (or is disturbed by) those.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CoattailError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { EMULATOR_STOP_GRACE_MS, ensureEmulatorResources, spawnEmulator, waitUntilListening } from '../local/emulators.js';
import { freePort, stopProcess } from '../local/processes.js';
import { writeLocalState, type LocalState } from '../local/state.js';
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
  /**
   * Where the emulators are recorded as `coattail local up` records its own (state.json), so that
   * `coattail tail --local --state-dir <dir>` and `watch --local --state-dir <dir>` read the demo's stream
   * and alerts while it runs; the pids are cleared when the demo stops them.
   */
  stateDir: string;
  region: string;
  stream: string;
  shards: number;
  alertsTable: string;
  signal: AbortSignal;
  logger: Logger;
  children: ChildGroups;
  /** Gives a free port (tests hand out a taken one first). */
  pickPort?: () => Promise<number>;
}

/** Starts with new ports this many times when another process took a port between its pick and its use. */
const PORT_ATTEMPTS = 3;

export function interrupted(): CoattailError {
  return new CoattailError(
    'demo interrupted',
    'a stop was requested while it started',
    'Nothing was left running; run coattail demo again',
    130,
  );
}

/**
 * Starts both emulators, creates the stream and the alert table; on any failure stops what it started. A port
 * is free when picked but may be taken by another process before the emulator listens on it (EADDRINUSE in its
 * log): then both start again on new ports.
 */
export async function startEmulators(s: EmulatorSettings): Promise<DemoEmulators> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startEmulatorsOnce(s);
    } catch (err) {
      const taken = err instanceof CoattailError && portTaken(err);
      if (!taken || attempt >= PORT_ATTEMPTS || s.signal.aborted) throw err;
      s.logger.warn('an emulator port was taken by another process before it could listen: starting on new ports', { port: taken });
    }
  }
}

/** The port of an emulator that could not listen because another process had it, else undefined. */
function portTaken(err: CoattailError): number | undefined {
  const m = /did not start on port (\d+)/.exec(err.what);
  const log = /^See its log (.+)$/.exec(err.fix)?.[1];
  if (!m || !log) return undefined;
  try {
    return /EADDRINUSE|address already in use/i.test(readFileSync(log, 'utf8')) ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function startEmulatorsOnce(s: EmulatorSettings): Promise<DemoEmulators> {
  const pick = s.pickPort ?? freePort;
  const [kinesisPort, tlsPort, dynamoPort] = [await pick(), await pick(), await pick()];
  const kinesisLog = path.join(s.logDir, 'kinesis.log');
  const dynamoLog = path.join(s.logDir, 'dynamodb.log');
  const kinesis = spawnEmulator('kinesis', { port: kinesisPort, tlsPort, logFile: kinesisLog, region: s.region });
  s.children.add(kinesis.pid, 'Kinesis emulator');
  let dynamo: ChildProcess | undefined;
  let state: LocalState | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all([
      kinesis.pid ? stopProcess(kinesis.pid, EMULATOR_STOP_GRACE_MS.kinesis) : undefined,
      dynamo?.pid ? stopProcess(dynamo.pid, EMULATOR_STOP_GRACE_MS.dynamodb) : undefined,
    ]);
    s.children.forget(kinesis.pid);
    s.children.forget(dynamo?.pid);
    if (state)
      writeLocalState(s.stateDir, { ...state, kinesis: { ...state.kinesis, pid: null }, dynamodb: { ...state.dynamodb, pid: null } });
  };
  try {
    dynamo = spawnEmulator('dynamodb', { port: dynamoPort, logFile: dynamoLog, region: s.region });
    s.children.add(dynamo.pid, 'DynamoDB-compatible store');
    s.logger.debug('starting the emulators', {
      kinesis_pid: kinesis.pid,
      kinesis_port: kinesisPort,
      dynamodb_pid: dynamo.pid,
      dynamodb_port: dynamoPort,
    });
    await Promise.all([
      waitUntilListening('kinesis', kinesis, { port: kinesisPort, logFile: kinesisLog }, s.signal, interrupted),
      waitUntilListening('dynamodb', dynamo, { port: dynamoPort, logFile: dynamoLog }, s.signal, interrupted),
    ]);
    const emulators: DemoEmulators = {
      region: s.region,
      kinesisEndpoint: `http://127.0.0.1:${kinesisPort}`,
      dynamodbEndpoint: `http://127.0.0.1:${dynamoPort}`,
      kinesisPid: kinesis.pid,
      dynamodbPid: dynamo.pid,
      stop,
    };
    await ensureEmulatorResources({ ...emulators, stream: s.stream, shards: s.shards, alertsTable: s.alertsTable, signal: s.signal });
    const at = new Date().toISOString();
    const entry = (pid: number | undefined, port: number, logFile: string) => ({
      pid: pid ?? null,
      port,
      endpoint: `http://127.0.0.1:${port}`,
      log_file: logFile,
      data_dir: '', // in memory: a demo's stream and alerts start empty
      started_at: at,
    });
    state = {
      version: 1,
      region: s.region,
      stream: s.stream,
      shards: s.shards,
      tables: [s.alertsTable],
      kinesis: { ...entry(kinesis.pid, kinesisPort, kinesisLog), tls_port: tlsPort },
      dynamodb: entry(dynamo.pid, dynamoPort, dynamoLog),
      updated_at: at,
    };
    writeLocalState(s.stateDir, state);
    return emulators;
  } catch (err) {
    await stop();
    throw err;
  }
}
