/**
 * `coattail local up`: the Kinesis emulator (kinesis-local) and the DynamoDB-compatible store (dynalite)
 * as background processes, their state under `--state-dir`, plus the stream and the alert table.
 * Idempotent: what already runs and answers is kept.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from '../../core/context.js';
import { CoattailError, errorMessage, usageError } from '../../core/errors.js';
import { EMULATOR_STOP_GRACE_MS, ensureEmulatorResources, spawnEmulator, waitUntilListening } from '../../local/emulators.js';
import { dynaliteServerScript, freePort, isPortFree, portAnswers, stopProcess } from '../../local/processes.js';
import { LOCAL_TABLES } from '../../local/resources.js';
import {
  EMULATOR_LABELS,
  EMULATORS,
  isEmulatorProcess,
  nowIso,
  readLocalState,
  writeLocalState,
  type EmulatorName,
  type EmulatorState,
  type LocalState,
} from '../../local/state.js';

export interface LocalUpOptions {
  stateDir: string;
  kinesisPort: string;
  dynamodbPort: string;
  stream: string;
  shards: string;
  json?: boolean;
}
function interrupted(): CoattailError {
  return new CoattailError(
    'local up interrupted',
    'a stop was requested while the emulators started',
    "Run 'coattail local down' or 'coattail local up' again",
    130,
  );
}

/** kinesis-local's default SHARD_LIMIT. */
const MAX_SHARDS = 50;

const PORT_FLAGS: Record<EmulatorName, { flag: string; env: string }> = {
  kinesis: { flag: '--kinesis-port', env: 'COATTAIL_KINESIS_PORT' },
  dynamodb: { flag: '--dynamodb-port', env: 'COATTAIL_DYNAMODB_PORT' },
};

function parsePort(text: string, name: EmulatorName): number {
  const port = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    const { flag, env } = PORT_FLAGS[name];
    throw usageError(
      `invalid ${flag} '${text}'`,
      'a port is an integer from 1 to 65535',
      `Pass e.g. ${flag} ${name === 'kinesis' ? 4568 : 8000} (or set ${env})`,
    );
  }
  return port;
}

function parseShards(text: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_SHARDS) {
    throw usageError(
      `invalid --shards '${text}'`,
      `the emulator takes 1 to ${MAX_SHARDS} shards`,
      'Pass e.g. --shards 2 (or set COATTAIL_SHARDS)',
    );
  }
  return n;
}

function parseStreamName(text: string): string {
  if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(text)) {
    throw usageError(
      `invalid --stream '${text}'`,
      'a Kinesis stream name is 1 to 128 letters, digits, _ . or -',
      'Pass e.g. --stream coattail-trades',
    );
  }
  return text;
}

function endpointOf(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/**
 * The TLS port kinesis-local also opens: the plain port + 1 when free and not wanted by the store,
 * else any free port. Exported for tests.
 */
export async function pickTlsPort(
  kinesisPort: number,
  avoid: readonly number[],
  isFree: (port: number) => Promise<boolean> = isPortFree,
  anyFreePort: () => Promise<number> = freePort,
): Promise<number> {
  const next = kinesisPort + 1;
  if (next <= 65_535 && !avoid.includes(next) && (await isFree(next))) return next;
  for (let i = 0; i < 10; i += 1) {
    const port = await anyFreePort();
    if (port !== kinesisPort && !avoid.includes(port)) return port;
  }
  throw new CoattailError(
    'no free port for the Kinesis emulator',
    'every port tried was taken',
    'Free some ports, or choose another --kinesis-port',
  );
}

/** Refuses a port another program holds (or that we may not use, e.g. below 1024), naming the way out. */
async function ensurePortFree(name: EmulatorName, port: number, host?: string): Promise<void> {
  const { flag, env } = PORT_FLAGS[name];
  const portOption = `${flag} <port> (or ${env}=<port>)`;
  const refuse = (why: string, fix: string): CoattailError =>
    new CoattailError(`cannot start the ${EMULATOR_LABELS[name]} on port ${port}`, why, fix);
  let free: boolean;
  try {
    free = await isPortFree(port, host);
  } catch (err) {
    throw refuse(errorMessage(err), `Choose another port with ${portOption}`);
  }
  if (!free) throw refuse('another program already listens on it', `Stop that program, or choose another port with ${portOption}`);
}

/**
 * The recorded emulator if it is ours, alive and answering. One that is alive but silent is hung
 * (or half-started by an interrupted `up`): it is stopped so a fresh one can take its place.
 */
async function reusableEmulator<T extends EmulatorState>(
  name: EmulatorName,
  entry: T | undefined,
  ctx: CommandContext,
): Promise<T | undefined> {
  if (!entry || !isEmulatorProcess(name, entry.pid)) return undefined;
  if (await portAnswers(entry.port)) return entry;
  ctx.logger.warn(`the ${EMULATOR_LABELS[name]} runs but does not answer; restarting it`, { pid: entry.pid, port: entry.port });
  await stopProcess(entry.pid, EMULATOR_STOP_GRACE_MS[name]);
  return undefined;
}

// `up` exits 0 when both emulators run and the stream and tables are ACTIVE.
export async function localUp(opts: LocalUpOptions, ctx: CommandContext): Promise<number> {
  const ports: Record<EmulatorName, number> = {
    kinesis: parsePort(opts.kinesisPort, 'kinesis'),
    dynamodb: parsePort(opts.dynamodbPort, 'dynamodb'),
  };
  if (ports.kinesis === ports.dynamodb) {
    throw usageError(
      `--kinesis-port and --dynamodb-port are both ${ports.kinesis}`,
      'each emulator needs its own port',
      'Choose two different ports',
    );
  }
  const shards = parseShards(opts.shards);
  const stream = parseStreamName(opts.stream);
  const stateDir = path.resolve(ctx.cwd, opts.stateDir);
  try {
    mkdirSync(stateDir, { recursive: true });
  } catch (err) {
    throw new CoattailError(
      `cannot create the state directory ${stateDir}`,
      errorMessage(err),
      'Choose another --state-dir (or COATTAIL_STATE_DIR), or fix its permissions',
    );
  }
  const prev = readLocalState(stateDir);

  const kinesisRunning = await reusableEmulator('kinesis', prev?.kinesis, ctx);
  const dynamoRunning = await reusableEmulator('dynamodb', prev?.dynamodb, ctx);
  for (const [name, running] of [
    ['kinesis', kinesisRunning],
    ['dynamodb', dynamoRunning],
  ] as const) {
    if (running && running.port !== ports[name]) {
      const { flag } = PORT_FLAGS[name];
      throw new CoattailError(
        `the ${EMULATOR_LABELS[name]} already runs on port ${running.port}`,
        `port ${ports[name]} was asked for`,
        `Pass ${flag} ${running.port}, or run 'coattail local down' first to move it`,
      );
    }
  }

  // Check everything before starting anything, so a refusal leaves nothing half-started.
  if (!dynamoRunning && !existsSync(dynaliteServerScript())) {
    throw new CoattailError(
      'cannot start the DynamoDB-compatible store',
      `${dynaliteServerScript()} is missing`,
      "Run 'npm run build' first",
    );
  }
  // kinesis-local listens on every interface, dynalite on the loopback only.
  if (!kinesisRunning) await ensurePortFree('kinesis', ports.kinesis);
  if (!dynamoRunning) await ensurePortFree('dynamodb', ports.dynamodb, '127.0.0.1');

  const now = nowIso(ctx);
  const region = kinesisRunning && prev ? prev.region : (ctx.env.AWS_REGION ?? ctx.env.AWS_DEFAULT_REGION ?? 'us-east-1');
  const fresh = (name: EmulatorName): EmulatorState => ({
    pid: null,
    port: ports[name],
    endpoint: endpointOf(ports[name]),
    log_file: path.join(stateDir, `${name}.log`),
    data_dir: path.join(stateDir, name),
    started_at: now,
  });
  const state: LocalState = {
    version: 1,
    region,
    stream,
    shards,
    tables: [...LOCAL_TABLES],
    kinesis: kinesisRunning ?? { ...fresh('kinesis'), tls_port: await pickTlsPort(ports.kinesis, [ports.dynamodb]) },
    dynamodb: dynamoRunning ?? fresh('dynamodb'),
    updated_at: now,
  };

  const started: Partial<Record<EmulatorName, ChildProcess>> = {};
  try {
    for (const name of EMULATORS) {
      if (name === 'kinesis' ? kinesisRunning : dynamoRunning) continue;
      const entry = state[name];
      const child = spawnEmulator(name, {
        port: entry.port,
        tlsPort: state.kinesis.tls_port,
        dataDir: entry.data_dir,
        logFile: entry.log_file,
        region,
      });
      // Detached (own session) and unreferenced: it outlives this command.
      child.unref();
      started[name] = child;
      state[name].pid = child.pid ?? null;
      ctx.logger.info(`starting the ${EMULATOR_LABELS[name]}`, { pid: child.pid, port: state[name].port, log: state[name].log_file });
    }
    // Recorded before waiting, so `local down` can stop them even if this command dies now.
    writeLocalState(stateDir, state);
    await Promise.all(
      Object.entries(started).map(([name, child]) => {
        const entry = state[name as EmulatorName];
        return waitUntilListening(name as EmulatorName, child, { port: entry.port, logFile: entry.log_file }, ctx.signal, interrupted);
      }),
    );
  } catch (err) {
    await stopStarted(started, state, stateDir, ctx);
    throw err;
  }

  const info = await ensureEmulatorResources({
    kinesisEndpoint: state.kinesis.endpoint,
    dynamodbEndpoint: state.dynamodb.endpoint,
    region,
    stream,
    shards,
    signal: ctx.signal,
  });
  if (!info.created && info.openShards !== shards) {
    ctx.logger.warn('the stream already exists with another shard count; left as it is', {
      stream,
      shards: info.openShards,
      asked: shards,
    });
  }
  state.shards = info.openShards;
  state.updated_at = nowIso(ctx);
  writeLocalState(stateDir, state);

  printUp(state, stateDir, { kinesis: !kinesisRunning, dynamodb: !dynamoRunning }, ctx);
  if (opts.json) {
    const view = (e: EmulatorState): { endpoint: string; pid: number | null; port: number } => ({
      endpoint: e.endpoint,
      pid: e.pid,
      port: e.port,
    });
    const out = {
      kinesis: view(state.kinesis),
      dynamodb: view(state.dynamodb),
      stream: state.stream,
      tables: state.tables,
      region: state.region,
      state_dir: stateDir,
    };
    ctx.stdout.write(`${JSON.stringify(out)}\n`);
  }
  return 0;
}

async function stopStarted(
  started: Partial<Record<EmulatorName, ChildProcess>>,
  state: LocalState,
  stateDir: string,
  ctx: CommandContext,
): Promise<void> {
  for (const [name, child] of Object.entries(started) as [EmulatorName, ChildProcess][]) {
    if (child.pid) await stopProcess(child.pid, EMULATOR_STOP_GRACE_MS[name]);
    state[name].pid = null;
    state[name].started_at = null;
  }
  state.updated_at = nowIso(ctx);
  writeLocalState(stateDir, state);
}

function printUp(state: LocalState, stateDir: string, startedNow: Record<EmulatorName, boolean>, ctx: CommandContext): void {
  const row = (name: EmulatorName): string =>
    `  ${name.padEnd(9)} ${state[name].endpoint.padEnd(24)} pid ${state[name].pid}${startedNow[name] ? '' : ' (already running)'}`;
  ctx.stderr.write(
    [
      `Local emulators running (state in ${stateDir}):`,
      row('kinesis'),
      row('dynamodb'),
      `  stream    ${state.stream} (${state.shards} shard${state.shards === 1 ? '' : 's'}, ACTIVE)`,
      `  tables    ${state.tables.join(', ')}`,
      `  region    ${state.region}`,
      "Next: 'coattail ingest --local'. Stop them with 'coattail local down'.",
      '',
    ].join('\n'),
  );
}
