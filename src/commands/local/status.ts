/** `coattail local status`: whether the local emulators run and answer, and their stream and tables. */
import path from 'node:path';
import { createDynamoClient } from '../../aws/dynamodb.js';
import { createKinesisClient } from '../../aws/kinesis.js';
import type { CommandContext } from '../../core/context.js';
import { portAnswers } from '../../local/processes.js';
import { describeStream, describeTable } from '../../local/resources.js';
import { isEmulatorProcess, readLocalState, type EmulatorName, type EmulatorState } from '../../local/state.js';

/** `local status` exits with this when anything is not running or not ready. */
export const EXIT_NOT_RUNNING = 3;

export interface LocalStatusOptions {
  stateDir: string;
  json?: boolean;
}

interface EmulatorStatus {
  status: 'running' | 'stopped';
  pid: number | null;
  port: number | null;
  endpoint: string | null;
  port_answers: boolean;
}

interface StatusReport {
  state_dir: string;
  region: string | null;
  ready: boolean;
  kinesis: EmulatorStatus & { stream: { name: string; exists: boolean | null; status: string | null; shards: number | null } | null };
  dynamodb: EmulatorStatus & { tables: { name: string; exists: boolean | null; status: string | null }[] };
}

async function emulatorStatus(name: EmulatorName, entry: EmulatorState | undefined): Promise<EmulatorStatus> {
  if (!entry) return { status: 'stopped', pid: null, port: null, endpoint: null, port_answers: false };
  const running = isEmulatorProcess(name, entry.pid);
  return {
    status: running ? 'running' : 'stopped',
    pid: running ? entry.pid : null,
    port: entry.port,
    endpoint: entry.endpoint,
    port_answers: await portAnswers(entry.port),
  };
}

/**
 * Exit codes: 0 when both emulators run and answer, the stream is ACTIVE and every table is ACTIVE
 * (ready for `ingest --local`); EXIT_NOT_RUNNING (3) otherwise.
 */
export async function localStatus(opts: LocalStatusOptions, ctx: CommandContext): Promise<number> {
  const stateDir = path.resolve(ctx.cwd, opts.stateDir);
  const state = readLocalState(stateDir);
  const kinesis = await emulatorStatus('kinesis', state?.kinesis);
  const dynamodb = await emulatorStatus('dynamodb', state?.dynamodb);
  const usable = (e: EmulatorStatus): boolean => e.status === 'running' && e.port_answers;

  let stream: StatusReport['kinesis']['stream'] = null;
  if (state) {
    stream = { name: state.stream, exists: null, status: null, shards: null };
    if (usable(kinesis)) {
      const client = createKinesisClient({ endpoint: state.kinesis.endpoint, region: state.region, local: true });
      try {
        const info = await describeStream(client, state.stream);
        stream = { name: state.stream, exists: info !== undefined, status: info?.status ?? null, shards: info?.openShards ?? null };
      } finally {
        client.destroy();
      }
    }
  }
  const tableNames = state?.tables ?? [];
  let tables: StatusReport['dynamodb']['tables'] = tableNames.map((name) => ({ name, exists: null, status: null }));
  if (state && usable(dynamodb)) {
    const client = createDynamoClient({ endpoint: state.dynamodb.endpoint, region: state.region, local: true });
    try {
      tables = await Promise.all(
        tableNames.map(async (name) => {
          const t = await describeTable(client, name);
          return { name, exists: t !== undefined, status: t?.TableStatus ?? null };
        }),
      );
    } finally {
      client.destroy();
    }
  }

  const ready = usable(kinesis) && usable(dynamodb) && stream?.status === 'ACTIVE' && tables.every((t) => t.status === 'ACTIVE');
  const report: StatusReport = {
    state_dir: stateDir,
    region: state?.region ?? null,
    ready,
    kinesis: { ...kinesis, stream },
    dynamodb: { ...dynamodb, tables },
  };
  if (opts.json) ctx.stdout.write(`${JSON.stringify(report)}\n`);
  else ctx.stdout.write(formatStatus(report, state !== undefined));
  return ready ? 0 : EXIT_NOT_RUNNING;
}

function formatStatus(r: StatusReport, hasState: boolean): string {
  if (!hasState) return `no local emulators (no state in ${r.state_dir}); run 'coattail local up'\n`;
  const row = (name: EmulatorName, e: EmulatorStatus, extra: string): string =>
    `${name.padEnd(9)} ${e.status.padEnd(8)} ${(e.pid ? `pid ${e.pid}` : '-').padEnd(10)} ${(e.endpoint ?? '-').padEnd(24)} ${(e.port_answers ? 'answers' : 'no answer').padEnd(10)} ${extra}`;
  const exists = (x: { exists: boolean | null; status: string | null }): string =>
    x.exists === null ? 'unknown' : x.exists ? (x.status ?? 'UNKNOWN') : 'missing';
  const s = r.kinesis.stream;
  const streamText = s ? `stream ${s.name}: ${exists(s)}${s.shards !== null ? `, ${s.shards} shards` : ''}` : '';
  const tableText = r.dynamodb.tables.map((t) => `table ${t.name}: ${exists(t)}`).join('; ');
  return [
    row('kinesis', r.kinesis, streamText),
    row('dynamodb', r.dynamodb, tableText),
    `state in ${r.state_dir}, region ${r.region}`,
    '',
  ].join('\n');
}
