/**
 * The local configuration tuned for fast whale alerts on a small machine (measurements in
 * docs/PERFORMANCE.md, "End-to-end latency"). The whale detector's alerts query polls Kinesis every
 * second (its history query, the Iceberg tables, every ten); the windowed jobs write more per batch
 * and their windows wait for the watermark anyway, so they run
 * less often and leave the cores to it. User settings (`--set`) come after these and win.
 */
export const WHALE_TRIGGER = '1 second';
/** The trigger of every other job (the pipeline's `--trigger`). */
export const DEFAULT_TRIGGER = '10 seconds';
/** The longest a trade waits in the producer for its PutRecords call. */
export const INGEST_LINGER_MS = 50;

/** The whale detector's Iceberg history query: its commits never hold up an alert, so fewer, larger ones. */
export const WHALE_HISTORY_TRIGGER = '10 seconds';

/** The per-job settings the demo passes before the user's own. */
export function tunedJobSettings(): string[] {
  return [`whale-detector:trigger=${WHALE_TRIGGER}`, `whale-detector:history_trigger=${WHALE_HISTORY_TRIGGER}`];
}

const UNIT_MS: Record<string, number> = { millisecond: 1, second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** `5 seconds`, `1 minute 30 seconds`, `500 milliseconds` → ms (the forms Spark and jobs-py read), or undefined. */
export function intervalMs(text: string): number | undefined {
  const parts = text.trim().split(/\s+/);
  if (parts.length === 0 || parts.length % 2 !== 0) return undefined;
  let total = 0;
  for (let i = 0; i < parts.length; i += 2) {
    const n = Number(parts[i]);
    const unit = parts[i + 1]?.toLowerCase().replace(/s$/, '') ?? '';
    const ms = UNIT_MS[unit];
    if (!/^\d+$/.test(parts[i] ?? '') || ms === undefined) return undefined;
    total += n * ms;
  }
  return total;
}
