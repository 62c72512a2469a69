// Trades cluster in time: format the `YYYY-MM-DDTHH:MM:SS` part once per second, not per trade. Two
// entries, because a trade's time and its receive time are formatted alternately and may straddle a second.
const cachedSeconds = [Number.NaN, Number.NaN];
const cachedPrefixes = ['', ''];
let nextSlot = 0;

function secondPrefix(second: number): string {
  if (cachedSeconds[0] === second) return cachedPrefixes[0]!;
  if (cachedSeconds[1] === second) return cachedPrefixes[1]!;
  const prefix = new Date(second * 1000).toISOString().slice(0, 19);
  cachedSeconds[nextSlot] = second;
  cachedPrefixes[nextSlot] = prefix;
  nextSlot ^= 1;
  return prefix;
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`;
}

/** ISO-8601 UTC, millisecond precision, from epoch milliseconds. */
export function isoFromMillis(ms: number): string {
  const second = Math.floor(ms / 1000);
  return `${secondPrefix(second)}.${pad3(ms - second * 1000)}Z`;
}

/** ISO-8601 UTC, microsecond precision, from epoch microseconds. */
export function isoFromMicros(us: number): string {
  const second = Math.floor(us / 1_000_000);
  const frac = us - second * 1_000_000;
  const ms = Math.floor(frac / 1000);
  return `${secondPrefix(second)}.${pad3(ms)}${pad3(frac - ms * 1000)}Z`;
}

const ISO_IN = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/;

/**
 * An exchange's ISO time normalized to our format: 3 fraction digits when it gives up to 3,
 * 6 when it gives more (microseconds are kept; anything finer is cut). Undefined when not ISO UTC.
 */
export function normalizeIso(text: string): string | undefined {
  // Coinbase's usual form (microseconds) passes through after a cheap structural check.
  if (text.length === 27 && isCanonicalMicros(text)) return text;
  const m = ISO_IN.exec(text);
  if (!m) return undefined;
  const frac = m[2] ?? '';
  const digits = frac.length <= 3 ? frac.padEnd(3, '0') : frac.slice(0, 6).padEnd(6, '0');
  const out = `${m[1]}.${digits}Z`;
  return Number.isNaN(Date.parse(out.slice(0, 23) + 'Z')) ? undefined : out;
}

function digitsAt(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** `YYYY-MM-DDTHH:MM:SS.ffffffZ` with fields in range. */
function isCanonicalMicros(t: string): boolean {
  if (t[4] !== '-' || t[7] !== '-' || t[10] !== 'T' || t[13] !== ':' || t[16] !== ':' || t[19] !== '.' || t[26] !== 'Z') return false;
  const month = digitsAt(t, 5, 7);
  const day = digitsAt(t, 8, 10);
  return (
    digitsAt(t, 0, 4) >= 0 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= 31 &&
    digitsAt(t, 11, 13) >= 0 &&
    digitsAt(t, 11, 13) < 24 &&
    digitsAt(t, 14, 16) >= 0 &&
    digitsAt(t, 14, 16) < 60 &&
    digitsAt(t, 17, 19) >= 0 &&
    digitsAt(t, 17, 19) < 61 &&
    digitsAt(t, 20, 26) >= 0
  );
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
