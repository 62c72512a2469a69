import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** An item's attributes as plain values: strings, numbers, booleans; what the zod schemas read. */
export type PlainItem = Record<string, string | number | boolean | null>;

/**
 * The low-level client's typed attributes (`{S: ...}`, `{N: ...}`) as plain values. Alert items hold
 * scalars only (the jobs' writer refuses anything else), so a list, map, set or binary attribute is an
 * error here: the item is counted as unparsable, never half-read.
 */
export function plainItem(item: Record<string, AttributeValue>): PlainItem {
  const out: PlainItem = {};
  for (const [name, value] of Object.entries(item)) {
    if (value.S !== undefined) out[name] = value.S;
    else if (value.N !== undefined) out[name] = Number(value.N);
    else if (value.BOOL !== undefined) out[name] = value.BOOL;
    else if (value.NULL !== undefined) out[name] = null;
    else throw new Error(`attribute ${name} is not a scalar (${Object.keys(value).join(',')})`);
  }
  return out;
}
