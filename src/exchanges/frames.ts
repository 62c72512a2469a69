import { multiplyDecimal, parseDecimal } from '../core/decimal.js';
import type { FeedEvent } from './types.js';

/** Helpers both mappers share: parsing a frame and the decimal fields of a trade. */

export type Json = Record<string, unknown>;

export const rejected = (reason: string): FeedEvent => ({ kind: 'rejected', reason });

export function isJsonObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The frame as a JSON object, or the reason it is not one. */
export function parseFrame(text: string): Json | string {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return 'invalid JSON';
  }
  return isJsonObject(msg) ? msg : 'not a JSON object';
}

export interface PriceAndSize {
  price: number;
  quantity: number;
  /** price × quantity computed on the decimal digits, rounded once. */
  quoteVolume: number;
}

/** Price and size from the exchange's decimal strings, or the reason they are unusable. */
export function priceAndSize(priceText: unknown, sizeText: unknown, names: string): PriceAndSize | string {
  if (typeof priceText !== 'string' || typeof sizeText !== 'string') return `${names} is not a decimal string`;
  const p = parseDecimal(priceText);
  const q = parseDecimal(sizeText);
  if (!p || !q) return `${names} is not a decimal string`;
  const price = Number(priceText);
  const quantity = Number(sizeText);
  if (!(price > 0) || !(quantity > 0)) return `${names} must be positive`;
  return { price, quantity, quoteVolume: multiplyDecimal(p, q) };
}
