/**
 * `coattail demo`'s options, checked and resolved into a plan before anything starts: a bad option is
 * one usage line, and nothing is left half-started.
 */
import path from 'node:path';
import type { CommandContext } from '../core/context.js';
import { DAY, durationOption, HOUR, SECOND, SPAN } from '../core/duration.js';
import { usageError } from '../core/errors.js';
import { parseSymbols } from '../ingest/feeds.js';
import { ALERTS_TABLE } from '../local/resources.js';
import { loadScenario, type Scenario } from '../simulator/index.js';
import { checkDemoDir } from './folders.js';
import { STREAMING_JOBS } from '../spark/jobs.js';
import type { StreamingJob } from './spark.js';
import { DEFAULT_TRIGGER, INGEST_LINGER_MS, SIMULATOR_WATERMARK, tunedJobSettings } from './tuning.js';

/** Options as commander hands them over (strings; environment variables already applied). */
export interface DemoOptions {
  headless?: boolean;
  duration?: string;
  json?: boolean;
  scenario?: string;
  seed?: string;
  live?: boolean;
  dir?: string;
  fresh?: boolean;
  symbols?: string;
  align?: string;
  watermark?: string;
  set?: string[];
  record?: string;
  startTimeout?: string;
  sparkApps?: string;
  drainTimeout?: string;
}

export const DEFAULT_DEMO_DIR = '.coattail/demo';
export const DEFAULT_SCENARIO = 'default';
const LIVE_SYMBOLS = 'BTC-USDT,ETH-USDT,SOL-USDT';

export interface DemoPlan {
  /** No live view: wait for --duration (or the end of a bounded scenario, or Ctrl-C), then the summary. */
  headless: boolean;
  json: boolean;
  durationMs: number | undefined;
  live: boolean;
  /** The simulator's scenario; undefined with --live. */
  scenario: Scenario | undefined;
  seed: number | undefined;
  alignSecond: number | undefined;
  symbols: string[];
  /** Absolute: the demo's folder (warehouse, checkpoints, raw zone, logs). */
  dir: string;
  fresh: boolean;
  jobs: readonly StreamingJob[];
  /** 2: the whale detector in an application of its own (see apps.ts); 1: all jobs in one. */
  sparkApps: 1 | 2;
  watermark: string | undefined;
  trigger: string;
  /** `JOB:NAME=VALUE`: the tuned ones first, then the user's (which win). */
  jobSettings: string[];
  recordFile: string | undefined;
  lingerMs: number;
  startTimeoutMs: number;
  /** How long the jobs may take to stop cleanly before they are killed. */
  stopTimeoutMs: number;
  /** Longest wait, after the ingest stops, for the jobs to finish what is in flight. */
  drainTimeoutMs: number;
  stream: string;
  alertsTable: string;
  region: string;
}

const JOB_SETTING = /^([a-z-]+):\s*([A-Za-z_]+)\s*=(.+)$/;

function checkJobSettings(settings: readonly string[]): string[] {
  for (const s of settings) {
    const m = JOB_SETTING.exec(s);
    if (!m || !STREAMING_JOBS.includes(m[1] ?? '')) {
      throw usageError(
        `--set '${s}' is not JOB:NAME=VALUE`,
        `JOB is one of ${STREAMING_JOBS.join(', ')}`,
        "write it like --set 'volume-anomaly:min_periods=3'",
      );
    }
  }
  return [...settings];
}

/** The watermark as Spark and the jobs read it: `10 seconds`, `1500 milliseconds`. */
function watermarkInterval(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ms = durationOption('--watermark', text, { min: 0, max: DAY, example: '10s' });
  return ms % SECOND === 0 ? `${ms / SECOND} seconds` : `${ms} milliseconds`;
}

function wholeNumber(flag: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > max)
    throw usageError(`${flag} must be a whole number from 0 to ${max}`, `got '${text}'`, `pass e.g. ${flag} 10`);
  return n;
}

function sparkAppCount(text: string | undefined): 1 | 2 {
  if (text === undefined || text.trim() === '2') return 2;
  if (text.trim() === '1') return 1;
  throw usageError(`--spark-apps must be 1 or 2`, `got '${text}'`, 'pass --spark-apps 1 to run all jobs in one Spark application');
}

export interface PlanEnv {
  /** True when a live view can be shown (stdout is a terminal and a view is wired in). */
  canShowView: boolean;
}

export function planDemo(opts: DemoOptions, ctx: CommandContext, env: PlanEnv): DemoPlan {
  const live = opts.live === true;
  if (live && opts.align !== undefined)
    throw usageError('--align needs the simulator', 'with --live the market is the real one', 'drop --align or --live');
  if (live && opts.record !== undefined)
    throw usageError('--record needs the simulator', 'it records what the simulator prints', 'drop --record or --live');
  const scenario = live ? undefined : loadScenario(opts.scenario ?? DEFAULT_SCENARIO, { cwd: ctx.cwd });
  const scenarioSymbols = scenario?.symbols.map((s) => s.symbol) ?? [];
  const symbols = parseSymbols(opts.symbols ?? (scenario ? scenarioSymbols.join(',') : LIVE_SYMBOLS));
  if (scenario) {
    const missing = symbols.filter((s) => !scenarioSymbols.includes(s));
    if (missing.length) {
      throw usageError(
        `scenario ${scenario.name ?? ''} has no ${missing.join(', ')}`,
        `it trades ${scenarioSymbols.join(', ')}`,
        'pick symbols from the scenario, or another scenario',
      );
    }
  }
  if (opts.align !== undefined && (live || scenario?.waitForClients || scenario?.history)) {
    throw usageError(
      '--align needs a scenario that opens at once',
      live
        ? 'the live exchanges keep their own clock'
        : `scenario ${scenario?.name ?? ''} opens when its clients are there${scenario?.history ? ' and its history is printed' : ''}, not at a second that can be set`,
      'drop --align, or use a scenario without waitForClients and history (e.g. --scenario scripted)',
    );
  }
  const durationMs = opts.duration === undefined ? undefined : durationOption('--duration', opts.duration, { ...SPAN, example: '3m' });
  const json = opts.json === true;
  const dir = path.resolve(ctx.cwd, opts.dir ?? DEFAULT_DEMO_DIR);
  checkDemoDir(dir); // refused before anything starts; checked again where the folder is cleared
  const userSettings = checkJobSettings(opts.set ?? []);
  // The quality checks let through only the configured symbols: the jobs get the demo's.
  const symbolSettings = STREAMING_JOBS.map((j) => `${j}:symbols=${symbols.join(',')}`);
  return {
    headless: opts.headless === true || json || !env.canShowView,
    json,
    durationMs,
    live,
    scenario,
    seed: wholeNumber('--seed', opts.seed, 0xffffffff),
    alignSecond: wholeNumber('--align', opts.align, 3_600),
    symbols,
    dir,
    fresh: opts.fresh === true,
    jobs: STREAMING_JOBS,
    sparkApps: sparkAppCount(opts.sparkApps),
    watermark: watermarkInterval(opts.watermark ?? (live ? undefined : SIMULATOR_WATERMARK)),
    trigger: DEFAULT_TRIGGER,
    jobSettings: [...tunedJobSettings(), ...symbolSettings, ...userSettings],
    recordFile: opts.record === undefined ? undefined : path.resolve(ctx.cwd, opts.record),
    lingerMs: INGEST_LINGER_MS,
    startTimeoutMs: durationOption('--start-timeout', opts.startTimeout ?? '240', { min: SECOND, max: HOUR, example: '4m' }),
    stopTimeoutMs: 90_000,
    drainTimeoutMs: durationOption('--drain-timeout', opts.drainTimeout ?? '60', { min: SECOND, max: HOUR, example: '1m' }),
    stream: 'coattail-trades',
    alertsTable: ALERTS_TABLE,
    region: 'us-east-1',
  };
}
