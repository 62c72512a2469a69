/**
 * Exact decimal arithmetic on the exchanges' decimal strings. Prices and sizes arrive as strings
 * such as "0.00426990"; multiplying their float64 values would give 0.14440801799999998 where the
 * decimal product is 0.144408018. We multiply the digits as integers instead.
 */

export interface Decimal {
  /** The significant digits without the point as an integer; Infinity when beyond 2^53. */
  readonly mantissa: number;
  /** Those digits as text (leading zeros removed) when mantissa is Infinity, else ''. */
  readonly digits: string;
  /** Number of digits after the point (trailing zeros dropped). */
  readonly scale: number;
}

/** Parses `123`, `0.00426990`; undefined for anything else (signs, exponents, spaces, empty parts). */
export function parseDecimal(text: string): Decimal | undefined {
  const n = text.length;
  if (n === 0) return undefined;
  let point = -1;
  let end = n; // one past the last significant character (trailing fraction zeros dropped)
  let mantissa = 0;
  let pendingZeros = 0; // fraction zeros not yet known to be significant
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (point >= 0 || i === 0 || i === n - 1) return undefined;
      point = i;
      end = i;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) return undefined;
    if (point >= 0) {
      // Trailing zeros of the fraction carry no value: "65000.01000000" is 6500001 × 10^-2.
      if (d === 0) {
        pendingZeros += 1;
        continue;
      }
      for (; pendingZeros > 0; pendingZeros--) mantissa *= 10;
      end = i + 1;
    }
    mantissa = mantissa * 10 + d;
  }
  // `end` stays at the point when the fraction is all zeros ("150.000"): scale 0.
  const scale = point < 0 ? 0 : Math.max(0, end - point - 1);
  if (mantissa <= Number.MAX_SAFE_INTEGER) return { mantissa, digits: '', scale };
  // Too many digits for an exact float64: keep them as text for BigInt.
  const raw = point < 0 ? text : text.slice(0, point) + text.slice(point + 1, end);
  return { mantissa: Number.POSITIVE_INFINITY, digits: raw.replace(/^0+(?=\d)/, ''), scale };
}

/**
 * The decimal product as the nearest float64. When the integer product is below 2^53 it is exact, and
 * dividing it by 10^scale (exact for scale ≤ 22) rounds once, correctly: the same float64 that
 * Number() of the exact decimal string gives. Larger products go through BigInt.
 */
export function multiplyDecimal(a: Decimal, b: Decimal): number {
  const scale = a.scale + b.scale;
  const product = a.mantissa * b.mantissa;
  if (product <= Number.MAX_SAFE_INTEGER && scale <= 22) return product / 10 ** scale;
  const big = (d: Decimal): bigint => (d.digits ? BigInt(d.digits) : BigInt(d.mantissa));
  const text = (big(a) * big(b)).toString();
  if (scale === 0) return Number(text);
  const padded = text.padStart(scale + 1, '0');
  return Number(`${padded.slice(0, -scale)}.${padded.slice(-scale)}`);
}

/** Decimal product of two decimal strings, as the nearest float64; undefined if either is not a decimal. */
export function decimalProduct(a: string, b: string): number | undefined {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (!x || !y) return undefined;
  return multiplyDecimal(x, y);
}
