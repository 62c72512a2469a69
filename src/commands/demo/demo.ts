/**
 * `coattail demo`: the whole pipeline on this machine. Local emulators, the market simulator (or
 * `--live` exchanges), ingest into the local Kinesis, the four streaming jobs in local Spark, alerts
 * into the local store and history into the local Iceberg warehouse, and the live alert view (whales, anomalies, spreads).
 * `--headless` (or a stdout that is not a terminal) runs the same without the view and ends with a
 * summary; `--json` makes that summary one JSON object on stdout.
 */
import { useColor, type CommandContext } from '../../core/context.js';
import { planDemo, type DemoOptions } from '../../demo/plan.js';
import { runDemo, type DemoHooks } from '../../demo/run.js';
import { formatSummary } from '../../demo/summary.js';

export type { DemoOptions } from '../../demo/plan.js';
export type { DemoHooks, DemoStoreEnv, DemoUiEnv } from '../../demo/run.js';
export type { DemoSummary } from '../../demo/summary.js';

/** Runs the demo; 0 when everything ran and was delivered, else the first problem is thrown after the summary. */
export async function demo(opts: DemoOptions, ctx: CommandContext, hooks: DemoHooks = {}): Promise<number> {
  const plan = planDemo(opts, ctx, { canShowView: ctx.stdout.isTTY === true && hooks.ui !== undefined });
  if (!hooks.ui && ctx.stdout.isTTY === true && opts.headless !== true && opts.json !== true) {
    ctx.logger.info('the live view is not available in this build; running headless');
  }
  const { summary, problems } = await runDemo(plan, ctx, hooks);
  if (plan.json) ctx.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    const { table, notes } = await formatSummary(summary, useColor(ctx.env, ctx.stdout));
    ctx.stdout.write(table);
    ctx.stderr.write(notes);
  }
  const [first, ...rest] = problems;
  for (const p of rest) ctx.logger.error(p.line());
  if (first) throw first;
  return 0;
}
