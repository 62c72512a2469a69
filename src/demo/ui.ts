/** The demo's live view: the whale view of `coattail watch` on the demo's own store, from the moment the market opened. */
import type { DemoUiEnv } from './hooks.js';

/** The view polls the store this often: a whale shows within half a second of its alert. */
const VIEW_INTERVAL_MS = 500;

export async function watchWhalesView(env: DemoUiEnv): Promise<void> {
  const { watchView } = await import('../watch/view.js');
  await watchView(
    {
      kind: 'whales',
      // Every whale since the market opened (plus a second, so the first one is never cut off by rounding).
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
