/**
 * Normalize + serialize throughput (trades/s on one core) against bare JSON.parse + JSON.stringify of
 * the same frames, in the same process and run. The candidate does what ingest does per frame: map,
 * check the unified-trade schema, serialize.
 */
import { createBinanceMapper } from '../src/exchanges/binance/mapper.js';
import { mapCoinbase } from '../src/exchanges/coinbase/mapper.js';
import { serializeTrade, UnifiedTradeSchema } from '../src/trade.js';
import { RECORDED_BINANCE_SYMBOLS, recordedFrames } from './frames.js';

export interface NormalizeResult {
  frames: number;
  baseline_per_s: number;
  normalize_per_s: number;
  normalize_without_schema_check_per_s: number;
  ratio: number;
  ratio_without_schema_check: number;
}

function rate(frames: string[], fn: (f: string) => number): number {
  const start = process.hrtime.bigint();
  let sink = 0;
  for (const f of frames) sink += fn(f);
  const ns = Number(process.hrtime.bigint() - start);
  if (sink < 0) throw new Error('unreachable');
  return (frames.length * 1e9) / ns;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function benchNormalize(count = 200_000, rounds = 7): NormalizeResult {
  const frames = recordedFrames(count);
  const binance = createBinanceMapper('ms', RECORDED_BINANCE_SYMBOLS);
  const now = Date.now();
  const baseline = (f: string): number => JSON.stringify(JSON.parse(f)).length;
  const normalize =
    (check: boolean) =>
    (f: string): number => {
      const ev = f.charCodeAt(2) === 115 /* {"stream" */ ? binance(f, now) : mapCoinbase(f, now);
      if (ev.kind !== 'trade') return 0;
      if (check && !UnifiedTradeSchema.safeParse(ev.trade).success) return 0;
      return serializeTrade(ev.trade).length;
    };
  const checked = normalize(true);
  const unchecked = normalize(false);
  // Warm up every path, then interleave rounds so machine noise hits all three alike.
  rate(frames.slice(0, 20_000), baseline);
  rate(frames.slice(0, 20_000), checked);
  rate(frames.slice(0, 20_000), unchecked);
  const b: number[] = [];
  const c: number[] = [];
  const u: number[] = [];
  for (let i = 0; i < rounds; i++) {
    b.push(rate(frames, baseline));
    c.push(rate(frames, checked));
    u.push(rate(frames, unchecked));
  }
  const baseline_per_s = median(b);
  const normalize_per_s = median(c);
  const unchecked_per_s = median(u);
  return {
    frames: count,
    baseline_per_s: Math.round(baseline_per_s),
    normalize_per_s: Math.round(normalize_per_s),
    normalize_without_schema_check_per_s: Math.round(unchecked_per_s),
    ratio: Math.round((normalize_per_s / baseline_per_s) * 100) / 100,
    ratio_without_schema_check: Math.round((unchecked_per_s / baseline_per_s) * 100) / 100,
  };
}
