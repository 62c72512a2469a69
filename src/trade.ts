import { z } from 'zod';
import { EXCHANGES } from './exchanges/registry.js';

/** ISO-8601 UTC with `Z`, millisecond or microsecond precision: `2024-05-01T12:00:00.123Z`. */
export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.(\d{3}|\d{6})Z$/;

export { EXCHANGES, type Exchange } from './exchanges/registry.js';

/**
 * The unified trade, schema version 1: one JSON object per trade, one per Kinesis record,
 * partition key = `symbol`. This schema is the single source of truth; `docs/unified-trade.schema.json`
 * is generated from it (`npm run schema`) and a test keeps the two equal.
 */
export const UnifiedTradeSchema = z
  .object({
    schema_version: z.literal(1).describe('Schema version of this record: 1.'),
    event_id: z
      .string()
      .regex(new RegExp(`^(${EXCHANGES.join('|')}):[A-Z0-9]+-[A-Z0-9]+:.+$`))
      .describe('`{exchange}:{symbol}:{trade_id}`: deterministic, so replays and reconnect overlaps dedupe.'),
    exchange: z.enum(EXCHANGES).describe('Where the trade printed.'),
    symbol: z
      .string()
      .regex(/^[A-Z0-9]+-[A-Z0-9]+$/)
      .describe('`BASE-QUOTE`, upper case, e.g. `BTC-USDT`.'),
    trade_id: z.string().min(1).describe("The exchange's trade id, as a string."),
    price: z.number().positive().finite().describe('Price in quote currency.'),
    quantity: z.number().positive().finite().describe('Size in base currency.'),
    quote_volume: z.number().positive().finite().describe("price × quantity, computed in decimal from the exchange's strings."),
    side: z.enum(['buy', 'sell']).describe("The TAKER's side (the aggressor)."),
    timestamp: z
      .string()
      .regex(ISO_TIMESTAMP)
      .describe('Trade time, ISO-8601 UTC with `Z`: milliseconds, or microseconds where the exchange gives them.'),
    ingested_at: z.string().regex(ISO_TIMESTAMP).describe('When the producer received the trade, same format.'),
  })
  .strict()
  .describe('coattail unified trade, schema version 1');

export type UnifiedTrade = z.infer<typeof UnifiedTradeSchema>;
export type TakerSide = UnifiedTrade['side'];

export function unifiedTradeJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://coattail.dev/schemas/unified-trade-v1.json',
    ...z.toJSONSchema(UnifiedTradeSchema, { target: 'draft-2020-12' }),
  };
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/;

/**
 * The trade as one JSON line, fields in schema order. Equal to JSON.stringify of a trade built in that
 * order, about twice as fast on the ingest hot path; falls back to JSON.stringify for any string that
 * would need escaping.
 */
export function serializeTrade(t: UnifiedTrade): string {
  if (NEEDS_ESCAPE.test(t.event_id) || NEEDS_ESCAPE.test(t.symbol) || NEEDS_ESCAPE.test(t.trade_id)) {
    return JSON.stringify({
      schema_version: t.schema_version,
      event_id: t.event_id,
      exchange: t.exchange,
      symbol: t.symbol,
      trade_id: t.trade_id,
      price: t.price,
      quantity: t.quantity,
      quote_volume: t.quote_volume,
      side: t.side,
      timestamp: t.timestamp,
      ingested_at: t.ingested_at,
    });
  }
  // Finite numbers print the same through String() as through JSON.stringify.
  return `{"schema_version":${t.schema_version},"event_id":"${t.event_id}","exchange":"${t.exchange}","symbol":"${t.symbol}","trade_id":"${t.trade_id}","price":${t.price},"quantity":${t.quantity},"quote_volume":${t.quote_volume},"side":"${t.side}","timestamp":"${t.timestamp}","ingested_at":"${t.ingested_at}"}`;
}
