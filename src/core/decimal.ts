/**
 * Exact decimal arithmetic on the exchanges' decimal strings. Prices and sizes arrive as strings
 * such as "0.00426990"; multiplying their float64 values would give 0.14440801799999998 where the
 * decimal product is 0.144408018. We multiply the digits as integers instead.
 */

export interface Decimal {
  /** The digits without the point as an integer: exact while below 2^53. */
  readonly mantissa: number;
  /** The digits without the point, leading zeros removed, for products beyond 2^53. */
  readonly digits: string;
  /** Number of digits after the point (trailing zeros dropped). */
  readonly scale: number;
}

/** Parses `123`, `0.00426990`; undefined for anything else (signs, exponents, spaces, empty parts). */
export function parseDecimal(text: string): Decimal | undefined {
  const n = text.length;
  let point = -1;
  let last = -1; // index of the last non-zero digit after the point
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (point >= 0 || i === 0 || i === n - 1) return undefined;
      point = i;
    } else if (c < 48 || c > 57) {
      return undefined;
    } else if (point >= 0 && c !== 48) {
      last = i;
    }
  }
  if (n === 0) return undefined;
  // Trailing zeros of the fraction carry no value: "65000.01000000" is 6500001 × 10^-2.
  const end = point < 0 ? n : last > point ? last + 1 : point;
  const scale = end > point && point >= 0 ? end - point - 1 : 0;
  const raw = point < 0 ? text : text.slice(0, point) + text.slice(point + 1, end);
  const digits = raw.charCodeAt(0) === 48 ? raw.replace(/^0+(?=\d)/, '') : raw;
  return { mantissa: Number(digits), digits, scale };
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
  const text = (BigInt(a.digits) * BigInt(b.digits)).toString();
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
