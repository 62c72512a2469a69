import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoattailError, errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { TradeSink, UndeliveredRecord } from './sink.js';

/** The folder asked for, then a coattail folder in the OS temp folder: where undelivered trades may go, in order. */
export function undeliveredPlaces(preferred: string): string[] {
  const temp = path.join(os.tmpdir(), 'coattail-undelivered');
  const first = path.resolve(preferred);
  return first === temp ? [temp] : [first, temp];
}

/**
 * Trades the sink gave up on, appended to an NDJSON file the moment it happens (synchronously, so a
 * crash or a second Ctrl-C right after cannot lose them). One line per trade: partition key, reason,
 * and the record as it would have been sent. When the place in use cannot be written (a read-only file
 * system, a full disk, a file in the way), the next place is tried; when none can, append() throws and
 * the caller keeps holding the records.
 */
export class UndeliveredFile {
  private readonly dirs: string[];
  private readonly name: string;
  private current = 0;
  private count = 0;
  private readonly written = new Set<string>();

  constructor(
    places: string | readonly string[],
    startedAtMs: number,
    private readonly logger: Logger = silentLogger,
  ) {
    this.dirs = typeof places === 'string' ? [places] : [...places];
    if (this.dirs.length === 0) throw new Error('UndeliveredFile needs at least one place');
    this.name = `trades-${new Date(startedAtMs).toISOString().replace(/[:.]/g, '-')}.ndjson`;
  }

  /** Where the next records go first. */
  get file(): string {
    return path.join(this.dirs[this.current]!, this.name);
  }

  /**
   * Appends the records, whole, to the place in use or else the first other place that takes them, and
   * returns that file. Throws a CoattailError naming every place and why when none could.
   */
  append(records: UndeliveredRecord[]): string {
    if (records.length === 0) return this.file;
    const text = records.map((r) => `${JSON.stringify({ partition_key: r.partitionKey, reason: r.reason, record: r.data })}\n`).join('');
    const order = [this.current, ...this.dirs.keys()].filter((i, at, all) => all.indexOf(i) === at);
    const failures: string[] = [];
    for (const i of order) {
      const file = path.join(this.dirs[i]!, this.name);
      try {
        appendWhole(file, text);
      } catch (err) {
        failures.push(`${file}: ${errorMessage(err)}`);
        continue;
      }
      this.current = i;
      this.count += records.length;
      this.written.add(file);
      if (failures.length > 0)
        this.logger.warn('undelivered trades saved in a fallback place', { file, count: records.length, because: failures.join('; ') });
      return file;
    }
    throw new CoattailError(
      `cannot save ${records.length} undelivered trades`,
      `no place could take them (${failures.join('; ')})`,
      'free disk space, or point --undelivered-dir (COATTAIL_UNDELIVERED_DIR) at a writable folder',
    );
  }

  saved(): number {
    return this.count;
  }

  /** Every file that holds saved trades, in the order first used. */
  files(): string[] {
    return [...this.written];
  }
}

/** All of it or nothing: a write cut short (a full disk) is cut back off, so the next place gets every line once. */
function appendWhole(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, 'a');
  try {
    const start = fstatSync(fd).size;
    const bytes = Buffer.from(text, 'utf8');
    try {
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
    } catch (err) {
      try {
        ftruncateSync(fd, start);
      } catch {
        // The write's own error is the one to report.
      }
      throw err;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Right before a forced exit (a second Ctrl-C): every record the sink holds unacknowledged goes to the
 * undelivered file, synchronously, and one line says how many and where (or that they are lost and why).
 */
export function saveUnsettled(sink: TradeSink, spill: UndeliveredFile, stderr: { write(text: string): unknown }): void {
  const records = sink.unsettled();
  if (records.length === 0) return;
  try {
    const file = spill.append(records);
    stderr.write(`coattail: saved ${records.length} trades not yet delivered in ${file}; send them again once the sink is healthy\n`);
  } catch (err) {
    stderr.write(`coattail: ${records.length} trades not yet delivered are lost: ${errorMessage(err)}\n`);
  }
}

export interface KeepUndelivered {
  /** The preferred folder (then the OS temp folder). */
  dir: string;
  startedAtMs: number;
  logger: Logger;
  /** The command's hook for a forced exit (a second Ctrl-C): what is unacknowledged is saved then. */
  onForcedExit?: ((save: () => void) => () => void) | undefined;
  stderr: { write(text: string): unknown };
}

/**
 * Every trade the sink gives up on goes to the undelivered file; on a forced exit, everything it still
 * holds does. `forget()` ends the forced-exit hook once the run is over.
 */
export function keepUndelivered(sink: TradeSink, k: KeepUndelivered): { spill: UndeliveredFile; places: string[]; forget: () => void } {
  const places = undeliveredPlaces(k.dir);
  const spill = new UndeliveredFile(places, k.startedAtMs, k.logger);
  sink.onUndelivered((records) => {
    // Throws when no place can take them: the sink then holds them (its buffer keeps pushing back) and tries again.
    const file = spill.append(records);
    k.logger.error('trades not delivered were saved', { count: records.length, file });
  });
  const forget = k.onForcedExit?.(() => saveUnsettled(sink, spill, k.stderr));
  return { spill, places, forget: () => forget?.() };
}
