/**
 * The demo's live view: `coattail watch`'s view on the demo's own store, from the moment the market
 * opened, with whales, anomalies and spreads to switch between (tab, or 1/2/3); whales first.
 */
import type { DemoUiEnv } from './hooks.js';

/** The view polls the store this often: a whale shows within half a second of its alert. */
const VIEW_INTERVAL_MS = 500;

export async function demoAlertsView(env: DemoUiEnv): Promise<void> {
  const [{ watchView }, { WATCH_KINDS }] = await Promise.all([import('../watch/view.js'), import('../watch/kinds.js')]);
  await watchView(
    {
      kind: 'whales',
      kinds: WATCH_KINDS,
      // Every alert since the market opened (plus a second, so the first one is never cut off by rounding).
      sinceMs: Math.max(1, Math.ceil((Date.now() - env.sinceMs) / 1000) + 1) * 1000,
      symbols: [],
      intervalMs: VIEW_INTERVAL_MS,
      table: env.alertsTable,
      endpoint: env.dynamodbEndpoint,
      region: env.region,
      local: true,
      json: false,
    },
    env.ctx,
  );
}
