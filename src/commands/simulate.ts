import path from 'node:path';
import type { CommandContext } from '../core/context.js';
import { usageError } from '../core/errors.js';
import { listScenarios, loadScenario } from '../simulator/scenario-loader.js';
import { startSimulator } from '../simulator/server.js';
import { tradeStreamName } from '../simulator/protocols/binance.js';

/** Options as commander gives them: strings, validated here. */
export interface SimulateOptions {
  port: string;
  host: string;
  scenario: string;
  seed?: string;
  rate?: string;
  record?: string;
  list?: boolean;
  json?: boolean;
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 65535)
    throw usageError(`invalid --port ${text}`, 'expected a whole number in 0..65535', 'Pass e.g. --port 9443 (0 picks a free port)');
  return n;
}

function parseSeed(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 0xffffffff)
    throw usageError(`invalid --seed ${text}`, 'expected a whole number in 0..4294967295', 'Pass e.g. --seed 7');
  return n;
}

function parseRate(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1_000_000) {
    throw usageError(`invalid --rate ${text}`, 'expected trades per second, a number in (0, 1000000]', 'Pass e.g. --rate 50');
  }
  return n;
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** `coattail simulate`: runs the local market until Ctrl-C, or until a bounded scenario is done. */
export async function simulate(opts: SimulateOptions, ctx: CommandContext): Promise<number> {
  if (opts.list) {
    const scenarios = listScenarios();
    if (opts.json) ctx.stdout.write(`${JSON.stringify(scenarios.map(({ name, description }) => ({ name, description })))}\n`);
    else {
      const width = Math.max(...scenarios.map((s) => s.name.length));
      for (const s of scenarios) ctx.stdout.write(`${s.name.padEnd(width)}  ${s.description}\n`);
    }
    return 0;
  }
  const port = parsePort(opts.port);
  const seed = opts.seed === undefined ? undefined : parseSeed(opts.seed);
  const rate = opts.rate === undefined ? undefined : parseRate(opts.rate);
  const scenario = loadScenario(opts.scenario, { cwd: ctx.cwd });
  const recordFile = opts.record === undefined ? undefined : path.resolve(ctx.cwd, opts.record);

  const sim = await startSimulator({ port, host: opts.host, scenario, seed, rate, recordFile, logger: ctx.logger });
  try {
    const symbols = scenario.symbols.map((s) => s.symbol);
    const streams = symbols.map(tradeStreamName).join('/');
    const lines = [
      `coattail simulate: scenario ${scenario.name ?? opts.scenario} (seed ${sim.seed}, ${sim.rate} trades/s, ${symbols.join(' ')})`,
    ];
    if (scenario.exchanges.includes('binance')) lines.push(`  Binance:  ${sim.binanceUrl}/stream?streams=${streams}`);
    if (scenario.exchanges.includes('coinbase')) lines.push(`  Coinbase: ${sim.coinbaseUrl}`);
    lines.push(
      `  REST:     ${sim.binanceRestUrl}/api/v3/historicalTrades (Binance), ${sim.coinbaseRestUrl}/products/{id}/trades (Coinbase)`,
    );
    lines.push(
      `  Ingest:   coattail ingest --binance-url ${sim.binanceUrl} --coinbase-url ${sim.coinbaseUrl} --binance-rest-url ${sim.binanceRestUrl} --coinbase-rest-url ${sim.coinbaseRestUrl} --sink stdout`,
    );
    if (recordFile) lines.push(`  Recording every printed trade to ${recordFile}`);
    lines.push('  Ctrl-C stops.');
    ctx.stderr.write(`${lines.join('\n')}\n`);
    if (opts.json) {
      const endpoints = {
        binanceUrl: sim.binanceUrl,
        coinbaseUrl: sim.coinbaseUrl,
        binanceRestUrl: sim.binanceRestUrl,
        coinbaseRestUrl: sim.coinbaseRestUrl,
        host: sim.host,
        port: sim.port,
        scenario: scenario.name,
        seed: sim.seed,
        rate: sim.rate,
        exchanges: scenario.exchanges,
        symbols,
      };
      ctx.stdout.write(`${JSON.stringify(endpoints)}\n`);
    }
    await Promise.race([sim.done, untilAborted(ctx.signal)]);
  } finally {
    await sim.close();
  }
  const stats = sim.stats();
  ctx.logger.info('simulator stopped', { printed: stats.printed, finished: stats.finished, events: stats.eventsFired });
  return 0;
}
