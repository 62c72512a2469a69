/** The three things `coattail watch` can follow, and what "amount" and "biggest" mean for each. */
import type { AlertType } from '../local/resources.js';
import type { WatchAlert } from './alerts.js';

export const WATCH_KINDS = ['whales', 'anomalies', 'spreads'] as const;
export type WatchKind = (typeof WATCH_KINDS)[number];

export const KIND_ALERT_TYPE: Record<WatchKind, AlertType> = {
  whales: 'whale',
  anomalies: 'volume_anomaly',
  spreads: 'spread',
};

/**
 * What `--min-usd` compares with: a whale's notional, an anomaly window's total quote volume. A spread
 * has no traded amount (its record carries prices and trade counts only), so the option does not apply.
 * Quote currencies (USDT, USDC, USD) are taken at par: this is a display filter, not accounting.
 */
export function usdAmount(alert: WatchAlert): number | undefined {
  switch (alert.alert_type) {
    case 'whale':
      return alert.quote_volume;
    case 'volume_anomaly':
      return alert.total_quote_volume;
    case 'spread':
      return undefined;
  }
}

export function minUsdApplies(kind: WatchKind): boolean {
  return kind !== 'spreads';
}

/** The number "biggest seen" ranks by: notional for whales, z-score for anomalies, spread % for spreads. */
export function magnitude(alert: WatchAlert): number {
  switch (alert.alert_type) {
    case 'whale':
      return alert.quote_volume;
    case 'volume_anomaly':
      return alert.z_score;
    case 'spread':
      return alert.spread_pct;
  }
}

/** The quote asset: the item's own, or the part of the symbol after the dash. */
export function quoteAsset(alert: WatchAlert): string {
  if (alert.alert_type === 'whale' && alert.quote_asset) return alert.quote_asset;
  return alert.symbol.split('-')[1] ?? '';
}
