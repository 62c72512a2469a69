import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, setLongTimeout, sleep } from '../../src/core/timers.js';

const DAY = 86_400_000;
const THIRTY_DAYS = 30 * DAY; // 2,592,000,000 ms: past 2^31 − 1 = 2,147,483,647

describe('long timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the clock models Node: a plain timer past 2^31 − 1 ms fires after 1 ms', () => {
    expect(THIRTY_DAYS).toBeGreaterThan(MAX_TIMER_MS);
    const fired = vi.fn();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    setTimeout(fired, THIRTY_DAYS);
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it('a 30-day timeout does not fire a millisecond early and fires once at the end', () => {
    const fired = vi.fn();
    setLongTimeout(fired, THIRTY_DAYS);
    vi.advanceTimersByTime(1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMER_MS); // past the first step
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(THIRTY_DAYS - 1 - MAX_TIMER_MS - 1); // 1 ms before the end
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(THIRTY_DAYS);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('365 days, several steps, ends exactly on time', () => {
    const fired = vi.fn();
    setLongTimeout(fired, 365 * DAY);
    vi.advanceTimersByTime(365 * DAY - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('short waits are plain timers', () => {
    const fired = vi.fn();
    setLongTimeout(fired, 250);
    vi.advanceTimersByTime(249);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('clear stops it in any step', () => {
    const fired = vi.fn();
    const t = setLongTimeout(fired, THIRTY_DAYS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5); // into the second step
    t.clear();
    vi.advanceTimersByTime(THIRTY_DAYS);
    expect(fired).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sleep waits 30 days, or until the signal aborts', async () => {
    let done = false;
    void sleep(THIRTY_DAYS).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(THIRTY_DAYS - 1);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);

    const abort = new AbortController();
    let woke = false;
    void sleep(THIRTY_DAYS, abort.signal).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(DAY);
    expect(woke).toBe(false);
    abort.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(woke).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});
