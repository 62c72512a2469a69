import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { CoattailError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { PrintedTrade } from './types.js';

/** NDJSON of every printed trade: the ground truth of a run, to compare with what was ingested. */
export interface Recorder {
  write(trade: PrintedTrade): void;
  /** Flushes and closes; rejects if any write failed. */
  close(): Promise<void>;
}

export async function openRecorder(file: string, logger: Logger): Promise<Recorder> {
  const stream: WriteStream = createWriteStream(file, { flags: 'w' });
  try {
    await once(stream, 'open');
  } catch (err) {
    throw new CoattailError(`cannot record trades to ${file}`, errorMessage(err), 'Check that the folder exists and is writable');
  }
  let failure: unknown;
  stream.on('error', (err) => {
    // Recording stops at the first failure; close() reports it so the run does not pass as complete.
    failure ??= err;
    logger.error('recording trades failed', { file, error: errorMessage(err) });
  });
  return {
    write(trade) {
      if (failure === undefined) stream.write(`${JSON.stringify(trade)}\n`);
    },
    async close() {
      if (!stream.closed) {
        stream.end();
        try {
          await once(stream, 'close');
        } catch (err) {
          failure ??= err;
        }
      }
      if (failure !== undefined) {
        throw new CoattailError(`recording trades to ${file} failed`, errorMessage(failure), 'Check the disk and the file, then run again');
      }
    },
  };
}
