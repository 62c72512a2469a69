/**
 * Exact decimal arithmetic on the exchanges' decimal strings. Prices and sizes arrive as strings
 * such as "0.00426990"; multiplying their float64 values would print 0.14440801799999998 where the
 * decimal product is 0.144408018. We multiply the digits as integers instead.
 */

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

export interface Decimal {
  /** All digits without the point, leading zeros removed (may be "0"). */
  readonly digits: string;
  /** Number of digits after the point. */
  readonly scale: number;
}

export function parseDecimal(text: string): Decimal | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const int = m[1] ?? '';
  // Trailing zeros of the fraction carry no value: "65000.01000000" is 6500001 × 10^-2.
  const frac = (m[2] ?? '').replace(/0+$/, '');
  const digits = (int + frac).replace(/^0+(?=\d)/, '');
  return { digits, scale: frac.length };
}

function toText(digits: string, scale: number): string {
  if (scale === 0) return digits;
  const padded = digits.length <= scale ? '0'.repeat(scale - digits.length + 1) + digits : digits;
  const cut = padded.length - scale;
  const frac = padded.slice(cut).replace(/0+$/, '');
  return frac.length > 0 ? `${padded.slice(0, cut)}.${frac}` : padded.slice(0, cut);
}

/** The exact product of two decimals, as a decimal string without trailing zeros. */
export function multiplyDecimal(a: Decimal, b: Decimal): string {
  const scale = a.scale + b.scale;
  // Fast path: both factors fit in 26 bits, so the integer product is exact in a float64.
  if (a.digits.length <= 7 && b.digits.length <= 7) {
    const product = Number(a.digits) * Number(b.digits);
    return toText(String(product), scale);
  }
  return toText((BigInt(a.digits) * BigInt(b.digits)).toString(), scale);
}

/** Decimal product of two decimal strings, as the nearest float64; undefined if either is not a decimal. */
export function decimalProduct(a: string, b: string): number | undefined {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (!x || !y) return undefined;
  return Number(multiplyDecimal(x, y));
}
