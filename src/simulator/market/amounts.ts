/**
 * Prices and sizes are integers of a decimal step (6500001 units of 0.01), so the strings the
 * simulator sends are exact and the same ones the ground truth records.
 */
export interface Scaled {
  /** Non-negative safe integer. */
  readonly units: number;
  /** value = units / 10^decimals */
  readonly decimals: number;
}

function split(v: Scaled): [string, string] {
  if (v.decimals === 0) return [String(v.units), ''];
  const digits = String(v.units).padStart(v.decimals + 1, '0');
  return [digits.slice(0, -v.decimals), digits.slice(-v.decimals)];
}

/** Shortest exact text: `65000.01`, `0.5`, `12`. */
export function canonicalText(v: Scaled): string {
  const [int, frac] = split(v);
  const trimmed = frac.replace(/0+$/, '');
  return trimmed ? `${int}.${trimmed}` : int;
}

/** Exact text with a fixed number of decimals (at least the value's own): Binance's `65000.01000000`. */
export function fixedText(v: Scaled, decimals: number): string {
  const [int, frac] = split(v);
  const padded = frac.padEnd(decimals, '0');
  if (padded.length > decimals) throw new RangeError(`${canonicalText(v)} needs more than ${decimals} decimals`);
  return decimals > 0 ? `${int}.${padded}` : int;
}

export function toNumber(v: Scaled): number {
  return v.units / 10 ** v.decimals;
}

/** The exact product a × b in its shortest text (Binance's `quoteQty`). */
export function exactProductText(a: Scaled, b: Scaled): string {
  const units = BigInt(a.units) * BigInt(b.units);
  const decimals = a.decimals + b.decimals;
  const digits = units.toString().padStart(decimals + 1, '0');
  const int = decimals > 0 ? digits.slice(0, -decimals) : digits;
  const frac = (decimals > 0 ? digits.slice(-decimals) : '').replace(/0+$/, '');
  return frac ? `${int}.${frac}` : int;
}
