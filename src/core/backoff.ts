/**
 * Exponential backoff with full jitter and a cap: delay = random(0, min(cap, base × 2^attempt)).
 * Full jitter spreads reconnecting clients apart (see "Exponential Backoff And Jitter", AWS
 * Architecture Blog), which matters when one exchange outage drops every connection at once.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 30_000 };

export function fullJitterDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** The wait between attempts (see timers.ts: any length works). */
export { sleep } from './timers.js';
