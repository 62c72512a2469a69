/**
 * The one syntax of every time option: `90` (seconds), `30s`, `15m`, `2h`, `1d`. Fractions are allowed
 * (`1.5s`, `0.25`, `1.5h`) and the result is rounded to the millisecond. Options named in milliseconds
 * (`--interval-ms`, `--linger-ms`) are plain numbers instead.
 */
import { usageError } from './errors.js';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const UNITS: Record<string, number> = { '': SECOND, s: SECOND, m: MINUTE, h: HOUR, d: DAY };
const SYNTAX = /^(\d+(?:\.\d+)?)([smhd]?)$/;

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = SYNTAX.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

/** `365d`, `1h`, `90s` → `90s`, `1.5s`: the largest unit the value is a whole number of. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', DAY],
    ['h', HOUR],
    ['m', MINUTE],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms / SECOND}s`;
}

export interface DurationRange {
  /** Smallest value in ms (0 itself is allowed only with `zeroIsOff`). */
  min: number;
  max: number;
  /** 0 turns the feature off. */
  zeroIsOff?: boolean;
  /** A value worth suggesting, as the user would type it. */
  example: string;
}

/** Run lengths and look-backs: `--duration` of ingest and demo, `watch --since`. */
export const SPAN: Omit<DurationRange, 'example'> = { min: SECOND, max: 365 * DAY };

/** The duration option `flag`, in ms; a usage error (one line, exit 2) when it is not one or out of range. */
export function durationOption(flag: string, text: string, range: DurationRange): number {
  const ms = parseDuration(text);
  const bounds = `${range.zeroIsOff ? '0 (off) or ' : ''}from ${formatDuration(range.min)} to ${formatDuration(range.max)}`;
  if (ms === undefined) {
    throw usageError(
      `${flag} '${text}' is not a duration`,
      'write seconds (90) or a number with s, m, h or d (30s, 15m, 2h, 1d)',
      `pass e.g. ${flag} ${range.example}`,
    );
  }
  if (ms === 0 && range.zeroIsOff) return 0;
  if (ms < range.min || ms > range.max)
    throw usageError(`${flag} ${text.trim()} is out of range`, `it must be ${bounds}`, `pass e.g. ${flag} ${range.example}`);
  return ms;
}
