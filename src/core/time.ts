/** ISO-8601 UTC, millisecond precision, from epoch milliseconds. */
export function isoFromMillis(ms: number): string {
  return new Date(ms).toISOString();
}

/** ISO-8601 UTC, microsecond precision, from epoch microseconds. */
export function isoFromMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const micros = String(us - ms * 1000).padStart(3, '0');
  const iso = new Date(ms).toISOString(); // ...sss Z
  return `${iso.slice(0, -1)}${micros}Z`;
}

const ISO_IN = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/;

/**
 * An exchange's ISO time normalized to our format: 3 fraction digits when it gives up to 3,
 * 6 when it gives more (microseconds are kept; anything finer is cut). Undefined when not ISO UTC.
 */
export function normalizeIso(text: string): string | undefined {
  const m = ISO_IN.exec(text);
  if (!m) return undefined;
  const frac = m[2] ?? '';
  const digits = frac.length <= 3 ? frac.padEnd(3, '0') : frac.slice(0, 6).padEnd(6, '0');
  const out = `${m[1]}.${digits}Z`;
  return Number.isNaN(Date.parse(out.slice(0, 23) + 'Z')) ? undefined : out;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
