import { describe, expect, it } from 'vitest';
import { decimalProduct, parseDecimal } from '../../src/core/decimal.js';
import { fullJitterDelay } from '../../src/core/backoff.js';
import { isoFromMicros, isoFromMillis, normalizeIso } from '../../src/core/time.js';
import { parseUnifiedSymbol, splitConcatenatedSymbol } from '../../src/core/symbols.js';

describe('decimal', () => {
  it('multiplies exactly', () => {
    expect(decimalProduct('0.1', '0.2')).toBe(0.02);
    expect(decimalProduct('65000.01000000', '0.00100000')).toBe(65.00001);
    expect(decimalProduct('100', '1000')).toBe(100000);
    expect(decimalProduct('150.00000000', '2.50000000')).toBe(375);
    expect(decimalProduct('0.00', '7')).toBe(0);
    expect(decimalProduct('10.0', '0.5')).toBe(5);
    expect(decimalProduct('0.00000001', '0.00000001')).toBe(1e-16);
    // 123456789.123456789 × 987654321.987654321, checked with Python's Decimal
    expect(decimalProduct('123456789.123456789', '987654321.987654321')).toBe(Number('121932631356500531.347203169112635269'));
  });
  it('parses digits and scale, dropping trailing zeros of the fraction', () => {
    expect(parseDecimal('150.00000000')).toEqual({ mantissa: 150, digits: '', scale: 0 });
    expect(parseDecimal('0.00426990')).toEqual({ mantissa: 42699, digits: '', scale: 7 });
    expect(parseDecimal('007.50')).toEqual({ mantissa: 75, digits: '', scale: 1 });
    expect(parseDecimal('100.0010')).toEqual({ mantissa: 100001, digits: '', scale: 3 });
    // beyond 2^53 the digits are kept as text for BigInt
    expect(parseDecimal('0123456789.1234567890')).toEqual({ mantissa: Number.POSITIVE_INFINITY, digits: '123456789123456789', scale: 9 });
  });
  it('agrees with a plain BigInt reference on thousands of exchange-like decimals', () => {
    // Reference: exact product of the two decimal strings with BigInt, then Number() of its text.
    const reference = (a: string, b: string): number => {
      const [ai, af = ''] = a.split('.') as [string, string?];
      const [bi, bf = ''] = b.split('.') as [string, string?];
      const digits = (BigInt(ai + af) * BigInt(bi + bf)).toString();
      const scale = af.length + bf.length;
      const padded = digits.padStart(scale + 1, '0');
      return Number(scale ? `${padded.slice(0, -scale)}.${padded.slice(-scale)}` : padded);
    };
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const decimal = (): string => {
      const int = String(rnd(10 ** (1 + rnd(6))));
      const frac = rnd(3) === 0 ? '' : String(rnd(10 ** 8)).padStart(1 + rnd(8), '0') + '0'.repeat(rnd(4));
      return frac ? `${int}.${frac}` : int;
    };
    for (let i = 0; i < 5_000; i++) {
      const a = decimal();
      const b = decimal();
      expect(decimalProduct(a, b), `${a} × ${b}`).toBe(reference(a, b));
    }
  });
  it('refuses what is not a plain decimal', () => {
    for (const bad of ['', '1e5', '-1', '1.', '.5', '1,5', ' 1', 'NaN']) expect(parseDecimal(bad), bad).toBeUndefined();
  });
});

describe('time', () => {
  it('formats epoch ms and µs as ISO UTC', () => {
    expect(isoFromMillis(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoFromMillis(1714564800999)).toBe('2024-05-01T12:00:00.999Z');
    expect(isoFromMillis(1714564801007)).toBe('2024-05-01T12:00:01.007Z');
    expect(isoFromMillis(1714564800050)).toBe('2024-05-01T12:00:00.050Z');
    expect(isoFromMicros(1_000_001)).toBe('1970-01-01T00:00:01.000001Z');
    expect(isoFromMicros(1714564800123456)).toBe('2024-05-01T12:00:00.123456Z');
  });
  it('normalizes ISO strings', () => {
    expect(normalizeIso('2024-05-01T12:00:00.1Z')).toBe('2024-05-01T12:00:00.100Z');
    expect(normalizeIso('2024-05-01T12:00:00.1234Z')).toBe('2024-05-01T12:00:00.123400Z');
    expect(normalizeIso('2024-13-01T12:00:00Z')).toBeUndefined();
    expect(normalizeIso('2024-05-01T12:00:00.123456Z')).toBe('2024-05-01T12:00:00.123456Z');
    expect(normalizeIso('2024-13-01T12:00:00.123456Z')).toBeUndefined();
    expect(normalizeIso('2024-05-01T24:00:00.123456Z')).toBeUndefined();
    expect(normalizeIso('2024-05-01T12:00:00.12345xZ')).toBeUndefined();
  });
});

describe('symbols', () => {
  it('splits by the asset table only', () => {
    expect(splitConcatenatedSymbol('btcusdt')).toEqual({ base: 'BTC', quote: 'USDT', unified: 'BTC-USDT' });
    expect(splitConcatenatedSymbol('BTCUSD')).toEqual({ base: 'BTC', quote: 'USD', unified: 'BTC-USD' });
    expect(splitConcatenatedSymbol('FOOUSDT')).toBeUndefined();
    expect(parseUnifiedSymbol('sol-usdt')).toEqual({ base: 'SOL', quote: 'USDT', unified: 'SOL-USDT' });
    expect(parseUnifiedSymbol('SOLUSDT')).toBeUndefined();
  });
});

describe('backoff', () => {
  it('is uniform below min(cap, base × 2^attempt)', () => {
    const p = { baseMs: 100, capMs: 1000 };
    expect(fullJitterDelay(0, p, () => 0.999)).toBe(99);
    expect(fullJitterDelay(3, p, () => 0.5)).toBe(400);
    expect(fullJitterDelay(10, p, () => 0.5)).toBe(500);
    expect(fullJitterDelay(5, p, () => 0)).toBe(0);
  });
});
