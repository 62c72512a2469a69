import { performance } from 'node:perf_hooks';

/**
 * Wall-clock microseconds that never go backwards: trades printed in one tick get increasing times,
 * as the exchanges' matching engines stamp them. Milliseconds come from the wall clock (so long runs
 * do not drift from it); the sub-millisecond digits from the high-resolution timer.
 */
export function createMicroClock(): () => number {
  let last = 0;
  return () => {
    const now = Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
    last = Math.max(last + 1, now);
    return last;
  };
}
