/** The demo's live view: `coattail watch whales` on the demo's own store, from the moment the market opened. */
import type { DemoUiEnv } from './hooks.js';

export async function watchWhalesView(env: DemoUiEnv): Promise<void> {
  const { watch } = await import('../commands/watch.js');
  // Every whale since the market opened (plus a second, so the first one is never cut off by rounding).
  const sinceSeconds = Math.max(1, Math.ceil((Date.now() - env.sinceMs) / 1000) + 1);
  await watch(
    'whales',
    {
      since: `${sinceSeconds}s`,
      local: true,
      stateDir: '.coattail/local',
      region: env.region,
      dynamodbEndpoint: env.dynamodbEndpoint,
      table: env.alertsTable,
      intervalMs: '500',
    },
    env.ctx,
  );
}
