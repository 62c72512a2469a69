/**
 * End-to-end latency of whale alerts: from the trade's time at the exchange to the moment the alert
 * was written to the store (`written_at`, stamped by the jobs' writer). Window alerts (volume
 * anomalies, spreads) are left out: they wait for their window to close and the watermark to pass it
 * by design, so their delay measures the configuration, not the pipeline.
 */
import type { PlainItem } from '../watch/item.js';

export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

/** Epoch milliseconds (with a fraction for microseconds) of an ISO-8601 UTC time, or undefined. */
export function isoToMillis(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = ISO.exec(text);
  if (!m?.[1]) return undefined;
  const seconds = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(seconds)) return undefined;
  const fraction = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return seconds + fraction;
}

/** written_at − trade time in ms; the trade time from `trade_time` (microseconds) or `alert_time`. */
export function alertLatencyMs(item: PlainItem): number | undefined {
  const traded = isoToMillis(item.trade_time) ?? isoToMillis(item.alert_time);
  const written = isoToMillis(item.written_at);
  if (traded === undefined || written === undefined) return undefined;
  return written - traded;
}

/** The nearest-rank percentile of ascending values: the smallest value with at least p % at or below it. */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

export function summarizeLatency(valuesMs: readonly number[]): LatencySummary {
  const sorted = [...valuesMs].sort((a, b) => a - b);
  const round = (v: number | null): number | null => (v === null ? null : Math.round(v));
  return {
    count: sorted.length,
    p50: round(nearestRank(sorted, 50)),
    p95: round(nearestRank(sorted, 95)),
    p99: round(nearestRank(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? null),
  };
}
