/**
 * The alerts `coattail watch` reads, one zod schema per type, over the DynamoDB items the jobs write
 * (jobs-py `alert_to_dynamo_item`): the envelope (id, type, times, symbol, exchange, headline) plus the
 * type's own fields from the source row. Field names stay the items' own (snake_case), so the NDJSON
 * output is the item as stored. Unknown attributes are kept: a field the jobs add later passes through.
 */
import { z } from 'zod';
import type { AlertType } from '../local/resources.js';
import { ISO_TIMESTAMP } from '../trade.js';
import type { PlainItem } from './item.js';

const IsoTime = z.string().regex(ISO_TIMESTAMP, 'expected ISO-8601 UTC with ms or µs and Z');
const Finite = z.number().finite();
const Positive = Finite.positive();
const NonNegative = Finite.nonnegative();
const Count = z.number().int().nonnegative();
const Text = z.string().min(1);

const envelope = {
  alert_id: Text,
  /** When it happened: the trade time (whales) or the window end (anomalies, spreads). */
  alert_time: IsoTime,
  /** When the job raised it. */
  detected_at: IsoTime,
  /** Stamped by the writer when it put the item; older items lack it. */
  written_at: IsoTime.optional(),
  symbol: Text,
  /** Absent when the alert has none; for spreads, the high exchange. */
  exchange: Text.optional(),
  headline: z.string(),
};

export const WhaleAlertSchema = z.looseObject({
  ...envelope,
  alert_type: z.literal('whale'),
  price: Positive,
  quantity: Positive,
  /** The notional, in quote currency. */
  quote_volume: Positive,
  side: z.enum(['buy', 'sell']),
  threshold: Positive,
  threshold_multiple: Positive,
  base_asset: Text.optional(),
  quote_asset: Text.optional(),
  trade_time: IsoTime.optional(),
  event_id: Text.optional(),
  trade_id: Text.optional(),
});

export const VolumeAnomalyAlertSchema = z.looseObject({
  ...envelope,
  alert_type: z.literal('volume_anomaly'),
  window_start: IsoTime,
  window_end: IsoTime,
  total_quote_volume: NonNegative,
  trade_count: Count,
  baseline_mean: Finite,
  baseline_std: NonNegative,
  baseline_windows: Count,
  z_score: Finite,
  threshold: Finite,
});

export const SpreadAlertSchema = z.looseObject({
  ...envelope,
  alert_type: z.literal('spread'),
  window_start: IsoTime,
  window_end: IsoTime,
  high_exchange: Text,
  low_exchange: Text,
  high_vwap: Positive,
  low_vwap: Positive,
  spread_pct: NonNegative,
  threshold_pct: NonNegative,
  binance_trades: Count.optional(),
  coinbase_trades: Count.optional(),
});

export type WhaleAlert = z.infer<typeof WhaleAlertSchema>;
export type VolumeAnomalyAlert = z.infer<typeof VolumeAnomalyAlertSchema>;
export type SpreadAlert = z.infer<typeof SpreadAlertSchema>;
export type WatchAlert = WhaleAlert | VolumeAnomalyAlert | SpreadAlert;

const schemas = {
  whale: WhaleAlertSchema,
  volume_anomaly: VolumeAnomalyAlertSchema,
  spread: SpreadAlertSchema,
} as const satisfies Record<AlertType, z.ZodType>;

export type ParsedAlert = { ok: true; alert: WatchAlert } | { ok: false; reason: string };

/** One item as an alert of `type`, or why it is not one (the first problem, on one line). */
export function parseAlert(type: AlertType, item: PlainItem): ParsedAlert {
  const result = schemas[type].safeParse(item);
  if (result.success) return { ok: true, alert: result.data };
  const issue = result.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'item';
  return { ok: false, reason: `${where}: ${issue?.message ?? 'does not parse'}` };
}

/** Epoch milliseconds of one of our ISO times (µs are cut: Date.parse wants at most ms). */
export function isoMillis(iso: string): number {
  return Date.parse(`${iso.slice(0, 23)}Z`);
}
