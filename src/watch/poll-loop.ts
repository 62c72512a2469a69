/**
 * Drives an AlertPoller until the signal aborts: polls at `intervalMs` while alerts come in, doubles
 * the wait (up to `idleCapMs`) while none do, and backs off (with jitter, up to `errorCapMs`) when
 * DynamoDB throttles or a call fails. A permanent error (no table, no permission), any failure of the
 * very first poll, or `maxFailures` failures in a row end the loop by throwing the error as it came.
 */
import { sleep as abortableSleep } from '../core/backoff.js';
import { errorMessage } from '../core/errors.js';
import type { WatchAlert } from './alerts.js';
import { isPermanent, isThrottling } from './errors.js';

export type PollStatus =
  | { kind: 'ok'; delivered: number; nextPollMs: number }
  | { kind: 'retrying'; reason: string; throttled: boolean; attempt: number; delayMs: number };

export interface PollLoopOptions {
  intervalMs: number;
  /** Longest wait between polls that find nothing; default 4 × intervalMs. */
  idleCapMs?: number;
  /** Longest wait after a throttled or failed poll; default 30 s. */
  errorCapMs?: number;
  /** Failed polls in a row (throttling excluded) before giving up; default 5. */
  maxFailures?: number;
  signal: AbortSignal;
  onAlerts: (alerts: WatchAlert[]) => void | Promise<void>;
  onStatus?: (status: PollStatus) => void;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface Pollable {
  poll(deliver: (alerts: WatchAlert[]) => void | Promise<void>, signal?: AbortSignal): Promise<number>;
}

export async function runPollLoop(poller: Pollable, opts: PollLoopOptions): Promise<void> {
  const sleep = opts.sleep ?? abortableSleep;
  const random = opts.random ?? Math.random;
  const idleCap = opts.idleCapMs ?? opts.intervalMs * 4;
  const errorCap = opts.errorCapMs ?? 30_000;
  const maxFailures = opts.maxFailures ?? 5;
  let polled = false;
  let idle = 0;
  let failures = 0;
  let throttles = 0;
  while (!opts.signal.aborted) {
    let delayMs: number;
    try {
      const delivered = await poller.poll(opts.onAlerts, opts.signal);
      polled = true;
      failures = 0;
      throttles = 0;
      idle = delivered > 0 ? 0 : idle + 1;
      delayMs = idle === 0 ? opts.intervalMs : Math.min(idleCap, opts.intervalMs * 2 ** Math.min(idle - 1, 20));
      opts.onStatus?.({ kind: 'ok', delivered, nextPollMs: delayMs });
    } catch (err) {
      if (opts.signal.aborted) return;
      const throttled = isThrottling(err);
      if (!throttled && (isPermanent(err) || !polled || failures + 1 >= maxFailures)) throw err;
      const attempt = throttled ? ++throttles : ++failures;
      // Half fixed, half random: never a zero wait (which would hammer a throttled table), and
      // several viewers drift apart.
      const ceiling = Math.min(errorCap, opts.intervalMs * 2 ** Math.min(attempt, 20));
      delayMs = Math.round(ceiling / 2 + (random() * ceiling) / 2);
      opts.onStatus?.({ kind: 'retrying', reason: errorMessage(err).split('\n')[0] ?? 'error', throttled, attempt, delayMs });
    }
    await sleep(delayMs, opts.signal);
  }
}
