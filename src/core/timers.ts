/**
 * Timers for waits a user chooses. Node fires a timer set above 2^31−1 ms (24.8 days) after 1 ms, so a
 * longer wait is chained: it re-arms in steps no longer than that until the whole time has passed.
 */

export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimeout {
  clear(): void;
}

/** Calls `fn` once after `ms`, however long that is. */
export function setLongTimeout(fn: () => void, ms: number): LongTimeout {
  let left = Math.max(0, ms);
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const step = Math.min(left, MAX_TIMER_MS);
    left -= step;
    timer = setTimeout(left > 0 ? arm : fn, step);
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}

/** Waits `ms` (any length); resolves early, never rejects, when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setLongTimeout(done, ms);
    function done(): void {
      timer.clear();
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
