/**
 * The simulator's only source of randomness: seeded, so a scenario and a seed always give the same
 * market. mulberry32 is small, fast and good enough for simulated order flow (not for cryptography).
 */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller; the second variate is dropped to keep the stream simple). */
  normal(): number;
  /** A version-4-shaped UUID built from the stream, like Coinbase's order ids. */
  uuid(): string;
}

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent seed, so two streams from one user seed do not share their sequence. */
export function deriveSeed(seed: number, stream: number): number {
  // splitmix32-style finalizer: nearby inputs give unrelated outputs.
  let z = (seed + Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

// Two hex digits per byte, looked up: uuids are made for every Coinbase trade, at up to 20k trades/s.
const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex8 = (n: number): string =>
  `${BYTE_HEX[(n >>> 24) & 0xff]}${BYTE_HEX[(n >>> 16) & 0xff]}${BYTE_HEX[(n >>> 8) & 0xff]}${BYTE_HEX[n & 0xff]}`;

export function createPrng(seed: number): Prng {
  const next = mulberry32(seed);
  const word = (): number => Math.floor(next() * 4294967296) >>> 0;
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      // 1 - u keeps the logarithm's argument in (0, 1].
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    uuid: () => {
      const a = hex8(word());
      // Version 4 in the 13th digit, variant 10xx in the 17th, as RFC 4122 random uuids have.
      const b = hex8(((word() & 0xffff0fff) | 0x00004000) >>> 0);
      const c = hex8(((word() & 0x3fffffff) | 0x80000000) >>> 0);
      const d = hex8(word());
      return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
    },
  };
}
