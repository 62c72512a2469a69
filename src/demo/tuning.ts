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

/**
 * The windowed jobs' watermark on the simulator's market (the jobs' own default, 2 minutes, stays for
 * --live). The local market hands every trade over within a second, in order, on one shard, so 30 s
 * loses nothing, and a window closes 30 s after its end instead of 2 minutes: a 3-minute demo then
 * shows the anomalies and spreads of its first two minutes (late drops are counted in the summary).
 */
export const SIMULATOR_WATERMARK = '30s';

/** The whale detector's Iceberg history query: its commits never hold up an alert, so fewer, larger ones. */
export const WHALE_HISTORY_TRIGGER = '10 seconds';

/** The per-job settings the demo passes before the user's own. */
export function tunedJobSettings(): string[] {
  return [`whale-detector:trigger=${WHALE_TRIGGER}`, `whale-detector:history_trigger=${WHALE_HISTORY_TRIGGER}`];
}
