/**
 * What a demo run reports at the end: trades in, rows per Iceberg table, alerts per type, and the
 * whale alerts' end-to-end latency. `--json` prints it as one object on stdout; otherwise a table.
 */
import type { AlertType } from '../local/resources.js';
import type { LatencySummary } from './latency.js';
import type { TableName } from './spark.js';

export interface DemoFeedCounts {
  reconnects: number;
  gaps: number;
  /** Trades of the gaps fetched over REST. */
  backfilled: number;
  /** Trades of the gaps still missing after backfill. */
  missing_trades: number;
  malformed_frames: number;
  invalid_trades: number;
  duplicates: number;
}

export interface DemoSummary {
  /** Trades delivered to the local Kinesis stream. */
  trades_in: number;
  /** Rows in each Iceberg table at the end (the warehouse keeps earlier runs' rows unless --fresh). */
  rows: Partial<Record<TableName, number>>;
  /** Alerts of each type in the local store (this run's: the store starts empty). */
  alerts: Record<AlertType, number>;
  /** Per type, seconds from the market's start (market_started_at) to its first alert in the store; null for none. */
  first_alert_s: Record<AlertType, number | null>;
  /** Whale alerts only: exchange trade time → written to the store. */
  latency_ms: LatencySummary;
  source: 'simulator' | 'live';
  scenario: string | null;
  seed: number | null;
  market_started_at: string;
  /** The whole run: start-up, market, drain and stop. */
  duration_s: number;
  /** Streaming queries that failed (empty when all ran to the end). */
  failed_queries: string[];
  /** Per job, the trades its watermarks dropped as late: windows and alerts that never saw them. */
  late_rows_dropped: Record<string, number>;
  trades_undelivered: number;
  /** Of those, the ones no place could save (never more than trades_undelivered). */
  trades_lost: number;
  /** What the exchange feeds did on the way in: a gap is a jump in a feed's trade ids (missing_trades wide). */
  feeds: DemoFeedCounts;
  dir: string;
  spark_logs: string[];
}

type Row = [string, string];

function num(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : n.toLocaleString('en-US');
}

export function summaryRows(s: DemoSummary): Row[] {
  const l = s.latency_ms;
  return [
    ['trades in', num(s.trades_in)],
    ...Object.entries(s.rows).map(([table, n]): Row => [`rows ${table}`, num(n)]),
    ...Object.entries(s.alerts).map(([type, n]): Row => [`alerts ${type}`, num(n)]),
    ...Object.entries(s.first_alert_s).map(([type, v]): Row => [`first ${type} alert (s after open)`, v === null ? '–' : v.toFixed(1)]),
    ['whale latency p50 (ms)', num(l.p50)],
    ['whale latency p95 (ms)', num(l.p95)],
    ['whale latency p99 (ms)', num(l.p99)],
    ['whale latency max (ms)', `${num(l.max)}${l.count ? ` (${l.count} alerts)` : ''}`],
    ['feed reconnects', num(s.feeds.reconnects)],
    ['feed gaps (backfilled, missing)', `${num(s.feeds.gaps)} (${num(s.feeds.backfilled)}, ${num(s.feeds.missing_trades)})`],
    ['malformed frames, invalid trades', `${num(s.feeds.malformed_frames)}, ${num(s.feeds.invalid_trades)}`],
  ];
}

function heading(s: DemoSummary): string {
  const what = s.source === 'live' ? 'live exchanges' : `scenario ${s.scenario ?? '?'} (seed ${s.seed ?? '?'})`;
  return `coattail demo: ${what}; market opened ${s.market_started_at}; ${s.duration_s} s in all`;
}

function footer(s: DemoSummary): string[] {
  return [
    ...(s.failed_queries.length ? [`failed queries: ${s.failed_queries.join(', ')}`] : []),
    ...Object.entries(s.late_rows_dropped)
      .filter(([, n]) => n > 0)
      .map(([job, n]) => `${job} dropped ${num(n)} late rows behind its watermark (raise --watermark; see its log)`),
    ...(s.trades_undelivered ? [`trades not delivered: ${s.trades_undelivered} (lost: ${s.trades_lost})`] : []),
    `warehouse, checkpoints and logs in ${s.dir}; Spark's logs: ${s.spark_logs.join(', ')}`,
    'Latency is for whale alerts only: window alerts wait for their window to close and the watermark to pass it.',
  ];
}

/** Two aligned columns, for when cli-table3 is not there. */
export function plainTable(rows: readonly Row[]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  const valueWidth = Math.max(...rows.map(([, v]) => v.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v.padStart(valueWidth)}`).join('\n');
}

async function cliTable(rows: readonly Row[], color: boolean): Promise<string | undefined> {
  try {
    const { default: Table } = await import('cli-table3');
    const table = new Table({
      head: ['', 'value'],
      colAligns: ['left', 'right'],
      style: color ? { head: ['cyan'] } : { head: [], border: [] },
    });
    table.push(...rows.map(([k, v]) => [k, v]));
    return table.toString();
  } catch {
    return undefined; // not installed: aligned text instead
  }
}

/** The table (stdout: data) and the notes around it (stderr: for people). */
export async function formatSummary(s: DemoSummary, color: boolean): Promise<{ table: string; notes: string }> {
  const rows = summaryRows(s);
  const table = (await cliTable(rows, color)) ?? plainTable(rows);
  return { table: `${heading(s)}\n${table}\n`, notes: `${footer(s).join('\n')}\n` };
}
