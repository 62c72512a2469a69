/**
 * What `coattail local up` leaves behind in `{stateDir}/state.json`: the emulators' pids, ports and
 * endpoints, the stream and the tables. Other commands (`ingest --local`, `watch`) find the
 * emulators through `localEndpoints`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CoattailError, errorMessage } from '../core/errors.js';
import { processCommandLine } from './processes.js';

export const STATE_FILE = 'state.json';

export const EMULATORS = ['kinesis', 'dynamodb'] as const;
export type EmulatorName = (typeof EMULATORS)[number];

/** What each emulator's command line contains, so a pid recycled by another program is never taken for ours. */
export const EMULATOR_MARKERS: Record<EmulatorName, string> = {
  kinesis: 'kinesis-local',
  dynamodb: 'dynalite-server',
};

export const EMULATOR_LABELS: Record<EmulatorName, string> = {
  kinesis: 'Kinesis emulator',
  dynamodb: 'DynamoDB-compatible store',
};

const EmulatorStateSchema = z.object({
  /** null once stopped. */
  pid: z.number().int().positive().nullable(),
  port: z.number().int().min(1).max(65_535),
  endpoint: z.string(),
  log_file: z.string(),
  data_dir: z.string(),
  started_at: z.string().nullable(),
});

export const LocalStateSchema = z.object({
  version: z.literal(1),
  region: z.string(),
  stream: z.string(),
  shards: z.number().int().positive(),
  tables: z.array(z.string()),
  kinesis: EmulatorStateSchema.extend({ tls_port: z.number().int().min(1).max(65_535) }),
  dynamodb: EmulatorStateSchema,
  updated_at: z.string(),
});

export type LocalState = z.infer<typeof LocalStateSchema>;
export type EmulatorState = z.infer<typeof EmulatorStateSchema>;

export function statePath(stateDir: string): string {
  return path.join(stateDir, STATE_FILE);
}

/** The recorded state, or undefined when `local up` never ran here. A damaged file is an error, not "absent". */
export function readLocalState(stateDir: string): LocalState | undefined {
  const file = statePath(stateDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CoattailError(`cannot read ${file}`, errorMessage(err), 'Check the permissions of the state directory');
  }
  let parsed: LocalState;
  try {
    parsed = LocalStateSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new CoattailError(
      `${file} is damaged`,
      errorMessage(err).split('\n')[0] ?? 'it does not parse',
      `Stop any emulator still running (see ${path.join(stateDir, '*.log')}), delete the file, then run 'coattail local up'`,
    );
  }
  return parsed;
}

/** Written to a temporary file and renamed over the old one, so a reader never sees half a file. */
export function writeLocalState(stateDir: string, state: LocalState): void {
  mkdirSync(stateDir, { recursive: true });
  const file = statePath(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(LocalStateSchema.parse(state), null, 2)}\n`);
  renameSync(tmp, file);
}

/** True when the pid is alive AND is the emulator we started (its command line carries our marker). */
export function isEmulatorProcess(name: EmulatorName, pid: number | null | undefined): pid is number {
  if (!pid) return false;
  return processCommandLine(pid)?.includes(EMULATOR_MARKERS[name]) ?? false;
}

export interface LocalEndpoints {
  kinesisEndpoint: string;
  dynamodbEndpoint: string;
  region: string;
  stream: string;
  tables: string[];
}

/**
 * The running emulators' endpoints. `need` names the emulators the caller uses (both by default):
 * `ingest --local` needs only Kinesis and should not fail because the store is down.
 */
export function localEndpoints(stateDir: string, need: readonly EmulatorName[] = EMULATORS): LocalEndpoints {
  const state = readLocalState(stateDir);
  const down = need.filter((name) => !state || !isEmulatorProcess(name, state[name].pid));
  if (!state || down.length > 0) {
    const which = down.map((n) => EMULATOR_LABELS[n]).join(' and ');
    throw new CoattailError(
      'local emulators are not running',
      state ? `the ${which} recorded in ${statePath(stateDir)} ${down.length > 1 ? 'are' : 'is'} stopped` : `no state in ${stateDir}`,
      "Run 'coattail local up' (or, to read a running demo's, pass --state-dir with the demo's folder, .coattail/demo by default)",
    );
  }
  return {
    kinesisEndpoint: state.kinesis.endpoint,
    dynamodbEndpoint: state.dynamodb.endpoint,
    region: state.region,
    stream: state.stream,
    tables: state.tables,
  };
}

/** A time for the state file: ISO-8601 in UTC. */
export function nowIso(ctx: { clock: { now(): number } }): string {
  return new Date(ctx.clock.now()).toISOString();
}
