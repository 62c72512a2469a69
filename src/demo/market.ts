/**
 * Where the demo's trades come from: the in-process market simulator (a built-in scenario or a file),
 * or with `--live` the real exchanges. A scripted scenario can be aligned so that one of its seconds
 * falls on a whole minute, which lines its events up with the jobs' 60-second and 30-second windows
 * (windows are aligned to the epoch, the market's clock is the wall clock).
 */
import { sleep } from '../core/backoff.js';
import type { Logger } from '../core/logger.js';
import { startSimulator, type Scenario, type SimulatorHandle } from '../simulator/index.js';
import { EXCHANGE_REGISTRY } from '../exchanges/registry.js';

export interface MarketPlan {
  live: boolean;
  scenario?: Scenario;
  seed?: number;
  /** Start the simulator so that its second `alignSecond` lands on a whole minute. */
  alignSecond?: number;
  /** Every trade the simulator prints, as NDJSON (the ground truth). */
  recordFile?: string;
}

export interface Market {
  source: 'simulator' | 'live';
  binanceUrl: string;
  /** Where the ingest fetches the trades of confirmed gaps (the simulator serves its own history). */
  binanceRestUrl: string;
  coinbaseRestUrl: string;
  coinbaseUrl: string;
  /** When the market opened (the simulator's second 0), epoch ms. */
  startedAtMs: number;
  seed: number | undefined;
  simulator: SimulatorHandle | undefined;
  /** Resolves when a bounded scenario has printed everything; never for live or unbounded markets. */
  done: Promise<void>;
  close(): Promise<void>;
}

const MINUTE_MS = 60_000;

/** The first moment at least `minLeadMs` from now at which starting puts second `second` on a whole minute. */
export function alignedStartMs(nowMs: number, second: number, minLeadMs = 1_000): number {
  const phase = ((-Math.round(second * 1000) % MINUTE_MS) + MINUTE_MS) % MINUTE_MS;
  let start = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS + phase;
  while (start < nowMs + minLeadMs) start += MINUTE_MS;
  return start;
}

/** Resolves at `atMs` on the wall clock (never before it), or early when the signal aborts. */
async function sleepUntil(atMs: number, signal: AbortSignal): Promise<void> {
  for (let left = atMs - Date.now(); left > 0 && !signal.aborted; left = atMs - Date.now()) {
    await sleep(Math.max(1, left), signal);
  }
}

export async function openMarket(plan: MarketPlan, env: NodeJS.ProcessEnv, logger: Logger, signal: AbortSignal): Promise<Market> {
  if (plan.live || !plan.scenario) {
    return {
      source: 'live',
      binanceUrl: env.COATTAIL_BINANCE_URL || EXCHANGE_REGISTRY.binance.wsUrl,
      coinbaseUrl: env.COATTAIL_COINBASE_URL || EXCHANGE_REGISTRY.coinbase.wsUrl,
      binanceRestUrl: env.COATTAIL_BINANCE_REST_URL || EXCHANGE_REGISTRY.binance.restUrl,
      coinbaseRestUrl: env.COATTAIL_COINBASE_REST_URL || EXCHANGE_REGISTRY.coinbase.restUrl,
      startedAtMs: Date.now(),
      seed: undefined,
      simulator: undefined,
      done: new Promise<void>(() => undefined),
      close: async () => undefined,
    };
  }
  if (plan.alignSecond !== undefined) {
    const at = alignedStartMs(Date.now(), plan.alignSecond);
    logger.info('waiting to open the market on time', {
      second: plan.alignSecond,
      on: new Date(at + plan.alignSecond * 1000).toISOString(),
      wait_s: Math.round((at - Date.now()) / 1000),
    });
    await sleepUntil(at, signal);
  }
  const startedAtMs = Date.now();
  const sim = await startSimulator({
    scenario: plan.scenario,
    logger: logger.child({ part: 'simulator' }),
    ...(plan.seed !== undefined ? { seed: plan.seed } : {}),
    ...(plan.recordFile ? { recordFile: plan.recordFile } : {}),
  });
  return {
    source: 'simulator',
    binanceUrl: sim.binanceUrl,
    coinbaseUrl: sim.coinbaseUrl,
    binanceRestUrl: sim.binanceRestUrl,
    coinbaseRestUrl: sim.coinbaseRestUrl,
    startedAtMs,
    seed: sim.seed,
    simulator: sim,
    done: sim.done,
    close: () => sim.close(),
  };
}
