/**
 * Where each streaming query stands, read from its checkpoint folder `<root>/<job>/<query>/`. Spark
 * writes `offsets/<n>` when micro-batch n starts (its watermark, then each source's end offset) and
 * `commits/<n>` when it is done (the watermark the next batch will use); the local Kinesis source
 * writes `sources/0/shard-commit/<n>/<shard>`, the position in each shard after batch n read it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sleep } from '../core/backoff.js';

export interface ShardPosition {
  shardId: string;
  /** TRIM_HORIZON (nothing read yet), AFTER_SEQUENCE_NUMBER, or SHARD_END. */
  iteratorType: string;
  iteratorPosition: string | undefined;
}

export interface QueryState {
  /** `job/query`, e.g. `whale-detector/whales`. */
  query: string;
  /** Newest batch started; -1 before the first. */
  started: number;
  /** Newest batch committed; -1 before the first. */
  committed: number;
  /** The committed batch ran with the watermark it hands on: no batch is owed to a moved watermark. */
  watermarkSettled: boolean;
  /** Kinesis queries: where each shard stands after the newest batch that read it. */
  shards: ShardPosition[] | undefined;
  /** Queries reading an Iceberg table: the snapshot the committed batch read up to (as text: a 64-bit id). */
  snapshotId: string | undefined;
  /** A shard file of that batch was still being written (empty or cut short) when it was read: look again. */
  shardsBeingWritten?: true;
}

function batchIds(dir: string): number[] {
  try {
    return readdirSync(dir)
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  } catch {
    return []; // not created yet
  }
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/** A number field of a JSON line, read as text: offsets hold 64-bit ids that a double would round. */
function field(line: string | undefined, name: string): string | undefined {
  return line ? new RegExp(`"${name}"\\s*:\\s*"?(-?\\d+)`).exec(line)?.[1] : undefined;
}

/** A shard file of the connector, or undefined while it is being written (it is not written atomically). */
function shardFile(file: string): { iteratorType?: string; iteratorPosition?: string } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { iteratorType?: string; iteratorPosition?: string };
  } catch {
    return undefined;
  }
}

function shardPositions(dir: string, upTo: number): ShardPosition[] | undefined | 'being written' {
  const commitsDir = path.join(dir, 'sources', '0', 'shard-commit');
  if (!existsSync(commitsDir)) return undefined;
  // A batch with no new data runs no read task, so the newest batch that read (up to the committed one) counts.
  const batch = batchIds(commitsDir)
    .filter((b) => b <= upTo)
    .pop();
  if (batch === undefined) return [];
  const folder = path.join(commitsDir, String(batch));
  const positions: ShardPosition[] = [];
  for (const shardId of readdirSync(folder)
    .filter((n) => !n.startsWith('.'))
    .sort()) {
    const info = shardFile(path.join(folder, shardId));
    if (!info) return 'being written';
    positions.push({ shardId, iteratorType: info.iteratorType ?? 'TRIM_HORIZON', iteratorPosition: info.iteratorPosition || undefined });
  }
  return positions;
}

export function readQueryState(root: string, query: string): QueryState {
  const dir = path.join(root, query);
  const started = batchIds(path.join(dir, 'offsets')).pop() ?? -1;
  const committed = batchIds(path.join(dir, 'commits')).pop() ?? -1;
  let watermarkSettled = true;
  let snapshotId: string | undefined;
  if (committed >= 0) {
    const offsets = lines(path.join(dir, 'offsets', String(committed)));
    const commit = lines(path.join(dir, 'commits', String(committed)));
    watermarkSettled = (field(offsets[1], 'batchWatermarkMs') ?? '0') === (field(commit[1], 'nextBatchWatermarkMs') ?? '0');
    snapshotId = offsets
      .slice(2)
      .map((l) => field(l, 'snapshot_id'))
      .find((id) => id !== undefined);
  }
  const shards = shardPositions(dir, committed);
  if (shards === 'being written')
    return { query, started, committed, watermarkSettled, shards: undefined, snapshotId, shardsBeingWritten: true };
  return { query, started, committed, watermarkSettled, shards, snapshotId };
}

/** Every query under `<root>/<job>/<query>/`. */
export function readQueries(root: string): QueryState[] {
  return subdirs(root).flatMap((job) => subdirs(path.join(root, job)).map((q) => readQueryState(root, `${job}/${q}`)));
}

/** The current snapshot of a table of the local (Hadoop) Iceberg catalog, or undefined while it has none. */
export function currentSnapshotId(tableDir: string): string | undefined {
  const hint = lines(path.join(tableDir, 'metadata', 'version-hint.text'))[0]?.trim();
  if (!hint) return undefined;
  const text = lines(path.join(tableDir, 'metadata', `v${hint}.metadata.json`)).join('\n');
  const id = field(text, 'current-snapshot-id');
  return id === undefined || id === '-1' ? undefined : id;
}

/**
 * Waits until each of the queries (`job/query`) has committed a first micro-batch: the first batch of
 * a query plans and compiles everything and loads its state, which on a busy machine takes longer than
 * any later one. Resolves true when all have, false on timeout, abort or `gone()`.
 */
export async function waitFirstBatches(
  root: string,
  queries: readonly string[],
  timeoutMs: number,
  signal: AbortSignal,
  gone: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (queries.every((q) => readQueryState(root, q).committed >= 0)) return true;
    if (signal.aborted || gone() || Date.now() > deadline) return false;
    await sleep(250, signal);
  }
}
