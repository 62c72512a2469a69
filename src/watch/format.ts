/** Numbers and times as the watch table shows them: en-US separators whatever the locale, fixed widths. */

const formats = new Map<string, Intl.NumberFormat>();

function number(value: number, minDigits: number, maxDigits: number): string {
  const key = `${minDigits}:${maxDigits}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: minDigits, maximumFractionDigits: maxDigits });
    formats.set(key, f);
  }
  return f.format(value);
}

/** `150,000`: whole units, for notionals and volumes. */
export function formatWhole(value: number): string {
  return number(Math.round(value), 0, 0);
}

/** `150,000`, or `123.46B` when the whole number would not fit `width`: a cut number would mislead. */
export function formatWholeFit(value: number, width: number): string {
  const whole = formatWhole(value);
  if (whole.length <= width) return whole;
  return new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 }).format(value);
}

/** `60,000.00` at 1 and above; below 1, four significant digits (`0.00001234`), as small coins need. */
export function formatPrice(value: number): string {
  if (Math.abs(value) >= 1) return number(value, 2, 2);
  return new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 }).format(value);
}

/** A base-currency size with as many decimals (at most 4, trailing zeros dropped) as fit `width`. */
export function formatSize(value: number, width: number): string {
  for (let digits = 4; digits > 0; digits--) {
    const text = number(value, 0, digits);
    if (text.length <= width) return text;
  }
  return number(value, 0, 0);
}

/** `1.5x`, `12.35x`. */
export function formatMultiple(value: number): string {
  return `${number(value, 0, 2)}x`;
}

/** At most `maxDigits` decimals, trailing zeros dropped: `2.5`, `0.615`. */
export function formatDecimal(value: number, maxDigits: number): string {
  return number(value, 0, maxDigits);
}

/** How long after `from` the alert was written: `0.8s`, `14s`, `3m`, `2h`; `-` when unknown. */
export function formatLag(fromIso: string, toIso: string | undefined): string {
  if (toIso === undefined) return '-';
  const ms = Date.parse(`${toIso.slice(0, 23)}Z`) - Date.parse(`${fromIso.slice(0, 23)}Z`);
  if (!Number.isFinite(ms)) return '-';
  if (ms < 0) return '0s'; // clocks a little apart: not worth a minus sign
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 100_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 6_000_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}

/** `HH:MM:SS` of an ISO UTC time. */
export function clockTime(iso: string): string {
  return iso.slice(11, 19);
}

/** Exactly `width` characters: padded, or cut with `…` so a row never wraps. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (text.length > width) return width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`;
  return align === 'right' ? text.padStart(width) : text.padEnd(width);
}
