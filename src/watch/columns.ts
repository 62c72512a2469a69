/**
 * The table's columns for each kind. Widths add up (with one space between columns) to at most 79, so
 * a row fits an 80-column terminal; a cell too long for its column is cut, never wrapped.
 */
import type { AlertType } from '../local/resources.js';
import type { SpreadAlert, VolumeAnomalyAlert, WatchAlert, WhaleAlert } from './alerts.js';
import { clockTime, formatDecimal, formatLag, formatMultiple, formatPrice, formatSize, formatWholeFit } from './format.js';
import type { WatchKind } from './kinds.js';

export type CellColor = 'green' | 'red';

export interface Column {
  title: string;
  width: number;
  align: 'left' | 'right';
  cell(alert: WatchAlert): string;
  color?(alert: WatchAlert): CellColor | undefined;
}

type AlertOf<T extends AlertType> = Extract<WatchAlert, { alert_type: T }>;

/** A column reading one type's fields; an alert of another type (never delivered to it) shows blank. */
function column<T extends AlertType>(
  type: T,
  title: string,
  width: number,
  align: 'left' | 'right',
  cell: (alert: AlertOf<T>) => string,
  color?: (alert: AlertOf<T>) => CellColor | undefined,
): Column {
  const is = (a: WatchAlert): a is AlertOf<T> => a.alert_type === type;
  return {
    title,
    width,
    align,
    cell: (a) => (is(a) ? cell(a) : ''),
    ...(color ? { color: (a: WatchAlert) => (is(a) ? color(a) : undefined) } : {}),
  };
}

/** Buy green, sell red: the taker's side, the aggressor. */
export function sideColor(side: 'buy' | 'sell'): CellColor {
  return side === 'buy' ? 'green' : 'red';
}

const time = <T extends AlertType>(type: T): Column => column(type, 'time', 8, 'left', (a) => clockTime(a.alert_time));
const symbol = <T extends AlertType>(type: T): Column => column(type, 'symbol', 9, 'left', (a) => a.symbol);
const lag = <T extends AlertType>(type: T): Column => column(type, 'lag', 5, 'right', (a) => formatLag(a.alert_time, a.written_at));

const whale: Column[] = [
  time('whale'),
  column('whale', 'exchange', 8, 'left', (a: WhaleAlert) => a.exchange ?? '-'),
  symbol('whale'),
  column(
    'whale',
    'side',
    4,
    'left',
    (a) => a.side,
    (a) => sideColor(a.side),
  ),
  column('whale', 'price', 10, 'right', (a) => formatPrice(a.price)),
  column('whale', 'size', 10, 'right', (a) => formatSize(a.quantity, 10)),
  column('whale', 'notional', 11, 'right', (a) => formatWholeFit(a.quote_volume, 11)),
  column('whale', 'x thr', 6, 'right', (a) => formatMultiple(a.threshold_multiple)),
  lag('whale'),
];

const anomaly: Column[] = [
  time('volume_anomaly'),
  column('volume_anomaly', 'exchange', 8, 'left', (a: VolumeAnomalyAlert) => a.exchange ?? '-'),
  symbol('volume_anomaly'),
  column('volume_anomaly', 'volume', 12, 'right', (a) => formatWholeFit(a.total_quote_volume, 12)),
  column('volume_anomaly', 'trades', 6, 'right', (a) => formatWholeFit(a.trade_count, 6)),
  column('volume_anomaly', 'baseline', 12, 'right', (a) => formatWholeFit(a.baseline_mean, 12)),
  column('volume_anomaly', 'z', 6, 'right', (a) => formatDecimal(a.z_score, 2)),
  column('volume_anomaly', 'thr', 5, 'right', (a) => formatDecimal(a.threshold, 2)),
  lag('volume_anomaly'),
];

const spread: Column[] = [
  time('spread'),
  symbol('spread'),
  column('spread', 'high', 8, 'left', (a: SpreadAlert) => a.high_exchange),
  column('spread', 'high vwap', 10, 'right', (a) => formatPrice(a.high_vwap)),
  column('spread', 'low', 8, 'left', (a) => a.low_exchange),
  column('spread', 'low vwap', 10, 'right', (a) => formatPrice(a.low_vwap)),
  column('spread', 'spread', 7, 'right', (a) => `${formatDecimal(a.spread_pct, 3)}%`),
  column('spread', 'thr', 5, 'right', (a) => `${formatDecimal(a.threshold_pct, 2)}%`),
  lag('spread'),
];

export const COLUMNS: Record<WatchKind, readonly Column[]> = { whales: whale, anomalies: anomaly, spreads: spread };

/** Characters one row takes: the widths and a space between columns. */
export function rowWidth(columns: readonly Column[]): number {
  return columns.reduce((sum, c) => sum + c.width, 0) + columns.length - 1;
}
