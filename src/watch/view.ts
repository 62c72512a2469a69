/**
 * The live view of one alert type: the alert table's newest alerts, polled. On a terminal, an ink view;
 * with `json` or when stdout is not a terminal, NDJSON (one alert a line). `coattail watch` mounts it from
 * its options, the demo with its own store.
 */
import { createDynamoClient } from '../aws/dynamodb.js';
import { useColor, type CommandContext } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { silentLogger } from '../core/logger.js';
import { watchError, type WatchTarget } from './errors.js';
import { KIND_ALERT_TYPE, minUsdApplies, WATCH_KINDS, type WatchKind } from './kinds.js';
import { PollerGroup } from './poller-group.js';
import { printNdjson } from './ndjson.js';
import { AlertPoller } from './poller.js';

export interface WatchViewProps {
  /** The kind shown first. */
  kind: WatchKind;
  /** Every kind to follow (the terminal view switches between them); just `kind` when absent. */
  kinds?: readonly WatchKind[];
  /** How far back the first poll reaches, in ms before now. */
  sinceMs: number;
  /** Only these symbols; every symbol when empty. */
  symbols: readonly string[];
  minUsd?: number | undefined;
  intervalMs: number;
  table: string;
  /** The store's endpoint (a local one, or a VPC endpoint); AWS when unset. */
  endpoint?: string | undefined;
  region?: string | undefined;
  profile?: string | undefined;
  /** The local store: stand-in credentials, never the user's. */
  local: boolean;
  json: boolean;
}

export async function watchView(p: WatchViewProps, ctx: CommandContext): Promise<number> {
  const { kind, sinceMs, minUsd, intervalMs, endpoint, region } = p;
  const symbols = [...p.symbols];
  // A short request timeout: a hung store fails one poll (and is retried) instead of freezing the view.
  const client = createDynamoClient({ region, endpoint, profile: p.profile, requestTimeoutMs: 10_000, local: p.local }, ctx.env);
  const target: WatchTarget = {
    table: p.table,
    where: endpoint ?? `region ${await client.config.region()}`,
    local: endpoint !== undefined,
  };

  const json = p.json || ctx.stdout.isTTY !== true;
  const kinds = WATCH_KINDS.filter((k) => k === kind || (p.kinds ?? []).includes(k));
  const from = ctx.clock.now() - sinceMs;
  const poller = new PollerGroup(
    kinds.map(
      (k) =>
        new AlertPoller({
          client,
          table: p.table,
          type: KIND_ALERT_TYPE[k],
          sinceMs: from,
          symbols,
          // --min-usd has no meaning for spreads (no traded amount): they all pass.
          ...(minUsd !== undefined && minUsdApplies(k) ? { minUsd } : {}),
          // Logs on the terminal the view draws on would tear it: there, the header counts skipped items.
          logger: json || ctx.stderr.isTTY !== true ? ctx.logger.child({ watch: k }) : silentLogger,
        }),
    ),
  );
  const loop = { intervalMs };
  try {
    if (json) {
      await printNdjson({ poller, loop, out: ctx.stdout, signal: ctx.signal, logger: ctx.logger });
    } else {
      const { runWatchTui } = await loadTui();
      await runWatchTui({
        kind,
        kinds,
        settings: { since: formatDuration(sinceMs), symbols, minUsd },
        color: useColor(ctx.env, ctx.stdout),
        poller,
        loop,
        signal: ctx.signal,
        // On this path stdout is a terminal, so these are the process's tty streams, as ink wants.
        stdout: ctx.stdout as NodeJS.WriteStream,
        stdin: process.stdin,
        stderr: ctx.stderr as NodeJS.WriteStream,
      });
    }
  } catch (err) {
    throw watchError(err, target);
  } finally {
    client.destroy();
  }
  const stats = poller.stats();
  ctx.logger.debug('watch ended', { ...stats });
  return 0;
}

/**
 * ink decides once, when its module is first evaluated, whether it runs under CI (`CI` or
 * `CONTINUOUS_INTEGRATION` set): there it draws nothing until the app ends. This path has a
 * terminal on stdout, so the view is wanted whatever those say: they are hidden from that one
 * evaluation and put back straight after.
 */
async function loadTui(): Promise<typeof import('./tui.js')> {
  const keys = ['CI', 'CONTINUOUS_INTEGRATION'] as const;
  const saved = keys.map((k) => [k, process.env[k]] as const);
  for (const k of keys) delete process.env[k];
  try {
    return await import('./tui.js');
  } finally {
    for (const [k, v] of saved) if (v !== undefined) process.env[k] = v;
  }
}
