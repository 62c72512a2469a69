/**
 * The alerts a market's printed trades imply, worked out from the simulator's recording alone, the way
 * the jobs' documentation defines them (jobs-py/coattail_jobs/jobs/*.py docstrings), with none of their code:
 *
 * - whale: a trade whose price × size is strictly above the threshold; id `whale:EXCHANGE:SYMBOL:TRADE_ID`.
 * - volume anomaly: 60-s epoch-aligned windows per (symbol, exchange); a window's baseline is the windows
 *   of its key starting within the hour before its start; with at least `minPeriods` of them, z =
 *   (volume − mean) / sample std, an anomaly when std > 0 and z > threshold;
 *   id `volume_anomaly:EXCHANGE:SYMBOL:WINDOW_START`.
 * - spread: 30-s windows per symbol with trades on both exchanges; each exchange's VWAP = Σ quote volume /
 *   Σ size; spread % = (high − low) / mid × 100, an alert when strictly above the threshold;
 *   id `spread:SYMBOL:WINDOW_START`.
 *
 * A streaming job emits a window once the watermark passes its end, so the windows a run emitted are the
 * earliest ones by end: `emittedByEnd` finds which from the number of rows the run wrote.
 */

export interface RecordedTrade {
  exchange: string;
  symbol: string;
  tradeId: number;
  price: string;
  size: string;
  takerSide: string;
  timeMs: number;
  timeIso: string;
}

export interface OracleWindow {
  key: string;
  symbol: string;
  exchange?: string;
  startMs: number;
  endMs: number;
}

interface VolumeWindow extends OracleWindow {
  exchange: string;
  quoteVolume: number;
}

interface SpreadWindow extends OracleWindow {
  spreadPct: number;
  highExchange: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Exact price × size > threshold (a whole number), on the decimal digits. */
function notionalAbove(t: RecordedTrade, threshold: number): boolean {
  const digits = (s: string): { n: bigint; scale: number } => {
    const [int = '0', frac = ''] = s.split('.');
    return { n: BigInt(int + frac), scale: frac.length };
  };
  const p = digits(t.price);
  const q = digits(t.size);
  return p.n * q.n > BigInt(threshold) * 10n ** BigInt(p.scale + q.scale);
}

export function whaleAlertIds(trades: readonly RecordedTrade[], threshold: number): string[] {
  return trades.filter((t) => notionalAbove(t, threshold)).map((t) => `whale:${t.exchange}:${t.symbol}:${t.tradeId}`);
}

function windowStart(timeMs: number, sizeMs: number): number {
  return Math.floor(timeMs / sizeMs) * sizeMs;
}

export function volumeWindows(trades: readonly RecordedTrade[]): VolumeWindow[] {
  const windows = new Map<string, VolumeWindow>();
  for (const t of trades) {
    const startMs = windowStart(t.timeMs, 60_000);
    const key = `${t.symbol}|${t.exchange}|${startMs}`;
    const w = windows.get(key) ?? { key, symbol: t.symbol, exchange: t.exchange, startMs, endMs: startMs + 60_000, quoteVolume: 0 };
    w.quoteVolume += Number(t.price) * Number(t.size);
    windows.set(key, w);
  }
  return [...windows.values()];
}

export function spreadWindows(trades: readonly RecordedTrade[]): SpreadWindow[] {
  type Sums = { quote: Record<string, number>; size: Record<string, number>; startMs: number; symbol: string };
  const sums = new Map<string, Sums>();
  for (const t of trades) {
    const startMs = windowStart(t.timeMs, 30_000);
    const key = `${t.symbol}|${startMs}`;
    const s = sums.get(key) ?? { quote: {}, size: {}, startMs, symbol: t.symbol };
    s.quote[t.exchange] = (s.quote[t.exchange] ?? 0) + Number(t.price) * Number(t.size);
    s.size[t.exchange] = (s.size[t.exchange] ?? 0) + Number(t.size);
    sums.set(key, s);
  }
  const out: SpreadWindow[] = [];
  for (const [key, s] of sums) {
    if (!s.size.binance || !s.size.coinbase) continue; // a row needs trades on both exchanges
    const binance = (s.quote.binance ?? 0) / s.size.binance;
    const coinbase = (s.quote.coinbase ?? 0) / s.size.coinbase;
    const [high, low] = binance >= coinbase ? [binance, coinbase] : [coinbase, binance];
    out.push({
      key,
      symbol: s.symbol,
      startMs: s.startMs,
      endMs: s.startMs + 30_000,
      spreadPct: ((high - low) / ((high + low) / 2)) * 100,
      highExchange: binance >= coinbase ? 'binance' : 'coinbase',
    });
  }
  return out;
}

/**
 * The `rows` earliest-ending windows: what a run that wrote `rows` of them emitted. Undefined when no
 * cut by end time gives exactly that many (the run did not emit whole ends, which the watermark rules out).
 */
export function emittedByEnd<W extends OracleWindow>(windows: readonly W[], rows: number): W[] | undefined {
  const sorted = [...windows].sort((a, b) => a.endMs - b.endMs);
  if (rows === 0) return [];
  if (rows > sorted.length) return undefined;
  const lastEnd = sorted[rows - 1]!.endMs;
  if (rows < sorted.length && sorted[rows]!.endMs === lastEnd) return undefined;
  return sorted.slice(0, rows);
}

export interface AnomalyRule {
  minPeriods: number;
  threshold: number;
}

export function anomalyAlertIds(windows: readonly VolumeWindow[], rule: AnomalyRule): string[] {
  const ids: string[] = [];
  for (const w of windows) {
    const baseline = windows
      .filter((b) => b.symbol === w.symbol && b.exchange === w.exchange && b.startMs >= w.startMs - 3_600_000 && b.startMs < w.startMs)
      .map((b) => b.quoteVolume);
    if (baseline.length < Math.max(2, rule.minPeriods)) continue;
    const mean = baseline.reduce((a, b) => a + b, 0) / baseline.length;
    const std = Math.sqrt(baseline.reduce((a, b) => a + (b - mean) ** 2, 0) / (baseline.length - 1));
    if (std > 0 && (w.quoteVolume - mean) / std > rule.threshold) ids.push(`volume_anomaly:${w.exchange}:${w.symbol}:${iso(w.startMs)}`);
  }
  return ids.sort();
}

export function spreadAlerts(windows: readonly SpreadWindow[], thresholdPct: number): Array<{ id: string; exchange: string }> {
  return windows
    .filter((w) => w.spreadPct > thresholdPct)
    .map((w) => ({ id: `spread:${w.symbol}:${iso(w.startMs)}`, exchange: w.highExchange }))
    .sort((a, b) => a.id.localeCompare(b.id));
}
