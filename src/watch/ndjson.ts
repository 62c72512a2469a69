/**
 * The machine view: one alert per line on stdout (NDJSON), in the order the poller finds them, each
 * line written as soon as it is read. Ends cleanly when the signal aborts or the reader goes away
 * (`| head -1`: noticed at the next write, EPIPE); waits for a slow reader instead of buffering.
 */
import type { Writable } from 'node:stream';
import { CoattailError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { WatchAlert } from './alerts.js';
import { runPollLoop, type Pollable, type PollLoopOptions } from './poll-loop.js';

export interface NdjsonOptions {
  poller: Pollable;
  loop: Omit<PollLoopOptions, 'signal' | 'onAlerts' | 'onStatus'>;
  out: Writable;
  signal: AbortSignal;
  logger: Logger;
}

export type NdjsonEnd = 'stopped' | 'reader gone';

export async function printNdjson(opts: NdjsonOptions): Promise<NdjsonEnd> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  let readerGone = false;
  let failure: CoattailError | undefined;
  // Stays attached after we return: a late EPIPE must not become an uncaught 'error'.
  opts.out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') readerGone = true;
    else failure ??= new CoattailError('cannot write alerts to stdout', errorMessage(err), 'check the command reading our output');
    stop.abort();
  });

  const drained = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        opts.out.off('drain', done);
        stop.signal.removeEventListener('abort', done);
        resolve();
      };
      opts.out.on('drain', done);
      stop.signal.addEventListener('abort', done, { once: true });
    });

  const write = async (alerts: WatchAlert[]): Promise<void> => {
    for (const alert of alerts) {
      if (stop.signal.aborted) return;
      if (!opts.out.write(`${JSON.stringify(alert)}\n`)) await drained();
    }
  };

  try {
    await runPollLoop(opts.poller, {
      ...opts.loop,
      signal: stop.signal,
      onAlerts: write,
      onStatus: (status) => {
        if (status.kind === 'retrying') {
          opts.logger.warn(status.throttled ? 'throttled by DynamoDB; backing off' : 'alert poll failed; retrying', {
            reason: status.reason,
            attempt: status.attempt,
            retry_in_ms: status.delayMs,
          });
        }
      },
    });
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure;
  return readerGone ? 'reader gone' : 'stopped';
}
