/**
 * The command line against the handlers, one row per command: every flag lands on an option its handler
 * declares (the lists below are checked against the handlers' option types by the compiler, and against
 * commander's options here), and every option with an environment variable reads it.
 */
import type { Command, Option } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram, type Actions } from '../../src/cli.js';
import type { BackfillOptions } from '../../src/commands/backfill.js';
import type { DdlOptions } from '../../src/commands/ddl.js';
import type { SchemaEvolutionOptions } from '../../src/commands/demo/schema-evolution.js';
import type { IngestOptions } from '../../src/commands/ingest.js';
import type { ListOptions } from '../../src/commands/jobs/list.js';
import type { LogsOptions } from '../../src/commands/jobs/logs.js';
import type { PackEnvOptions } from '../../src/commands/jobs/pack-env.js';
import type { SubmitOptions } from '../../src/commands/jobs/submit.js';
import type { LocalDownOptions } from '../../src/commands/local/down.js';
import type { LocalPeekOptions } from '../../src/commands/local/peek.js';
import type { LocalStatusOptions } from '../../src/commands/local/status.js';
import type { LocalUpOptions } from '../../src/commands/local/up.js';
import type { ReplayOptions } from '../../src/commands/replay.js';
import type { ReprocessOptions } from '../../src/commands/reprocess.js';
import type { SimulateOptions } from '../../src/commands/simulate.js';
import type { TailOptions } from '../../src/commands/tail.js';
import type { WatchOptions } from '../../src/commands/watch.js';
import type { DemoOptions } from '../../src/demo/plan.js';
import type { RunOptions } from '../../src/spark/emr/settings.js';
import type { ConfigShowOptions } from '../../src/commands/config/show.js';
import type { DoctorOptions } from '../../src/commands/doctor.js';

/** Keys of a handler's options: the compiler refuses one the handler does not declare. */
const keys =
  <T>() =>
  <const K extends readonly (keyof T & string)[]>(k: K): readonly string[] =>
    k;

interface Row {
  /** The arguments the command needs before its options. */
  args: string[];
  options: readonly string[];
}

const EMR = ['region', 'profile', 'config', 'env', 'saveConfig', 'applicationId'] as const;
/** Where an AWS-facing command acts (src/cli/options.ts awsTargetOptions). */
const TARGET = ['region', 'profile', 'config', 'env'] as const;

const TABLE: Record<string, Row> = {
  ingest: {
    args: [],
    options: keys<IngestOptions>()([
      'exchanges',
      'symbols',
      'stream',
      ...TARGET,
      'kinesisEndpoint',
      'local',
      'stateDir',
      'sink',
      'binanceUrl',
      'coinbaseUrl',
      'binanceRestUrl',
      'coinbaseRestUrl',
      'backfill',
      'symbolsCache',
      'binanceTimeUnit',
      'maxTrades',
      'duration',
      'aggregate',
      'lingerMs',
      'bufferRecords',
      'statsInterval',
      'shutdownTimeout',
      'undeliveredDir',
      'json',
    ]),
  },
  simulate: { args: [], options: keys<SimulateOptions>()(['port', 'host', 'scenario', 'seed', 'rate', 'record', 'list', 'json']) },
  replay: { args: ['whale-detector'], options: keys<ReplayOptions>()(['input', 'out', 'set', 'json']) },
  watch: {
    args: ['whales'],
    options: keys<WatchOptions>()([
      'minUsd',
      'since',
      'symbols',
      'json',
      'local',
      'stateDir',
      ...TARGET,
      'dynamodbEndpoint',
      'table',
      'intervalMs',
    ]),
  },
  tail: {
    args: [],
    options: keys<TailOptions>()([
      'stream',
      'from',
      'symbols',
      'minUsd',
      'max',
      'exitAtEnd',
      'json',
      'local',
      'stateDir',
      ...TARGET,
      'kinesisEndpoint',
    ]),
  },
  'local up': { args: [], options: keys<LocalUpOptions>()(['stateDir', 'kinesisPort', 'dynamodbPort', 'stream', 'shards', 'json']) },
  'local down': { args: [], options: keys<LocalDownOptions>()(['stateDir']) },
  'local status': { args: [], options: keys<LocalStatusOptions>()(['stateDir', 'json']) },
  'local peek': { args: [], options: keys<LocalPeekOptions>()(['stateDir', 'stream', 'last', 'json']) },
  demo: {
    args: [],
    options: keys<DemoOptions>()([
      'headless',
      'duration',
      'json',
      'scenario',
      'seed',
      'live',
      'dir',
      'fresh',
      'symbols',
      'watermark',
      'set',
      'align',
      'record',
      'sparkApps',
      'startTimeout',
      'drainTimeout',
    ]),
  },
  'demo schema-evolution': { args: [], options: keys<SchemaEvolutionOptions>()(['json', 'warehouse']) },
  'jobs submit': {
    args: ['whale-detector'],
    options: keys<SubmitOptions>()([
      ...EMR,
      'json',
      'executionRoleArn',
      'bucket',
      'stream',
      'alertsTable',
      'logGroup',
      'set',
      'runName',
      'venvArchive',
      'emrPython',
      'retriesPerHour',
      'timeoutMinutes',
      'conf',
      'driverCores',
      'driverMemory',
      'executorCores',
      'executorMemory',
      'executors',
      'maxExecutors',
      'replace',
      'replaceTimeoutMinutes',
      'wait',
      'cancelOnInterrupt',
      'dryRun',
      'local',
      'stateDir',
      'kinesisEndpoint',
      'dynamodbEndpoint',
      'warehouse',
      'sparkSubmit',
    ]),
  },
  'jobs list': { args: [], options: keys<ListOptions>()([...EMR, 'json', 'state', 'job', 'limit']) },
  'jobs status': { args: ['00fabc123'], options: keys<RunOptions>()([...EMR, 'json']) },
  'jobs logs': { args: ['00fabc123'], options: keys<LogsOptions>()([...EMR, 'log', 'follow', 'tail']) },
  'jobs cancel': { args: ['00fabc123'], options: keys<RunOptions>()([...EMR, 'json', 'wait']) },
  'jobs pack-env': { args: [], options: keys<PackEnvOptions>()(['out', 'arch', 'interpreter']) },
  completion: { args: ['bash'], options: [] },
  'ddl apply': {
    args: [],
    options: keys<DdlOptions>()([
      ...TARGET,
      'saveConfig',
      'json',
      'bucket',
      'workGroup',
      'outputLocation',
      'ddlDir',
      'dryRun',
      'local',
      'warehouse',
    ]),
  },
  reprocess: {
    args: [],
    options: keys<ReprocessOptions>()([
      ...EMR,
      'json',
      'asOf',
      'set',
      'report',
      'warehouse',
      'emr',
      'executionRoleArn',
      'bucket',
      'logGroup',
      'venvArchive',
      'emrPython',
      'timeoutMinutes',
      'runName',
      'wait',
      'cancelOnInterrupt',
      'dryRun',
    ]),
  },
  backfill: {
    args: [],
    options: keys<BackfillOptions>()([
      ...EMR,
      'json',
      'symbol',
      'start',
      'end',
      'exchange',
      'binanceRestUrl',
      'coinbaseRestUrl',
      'symbolsCache',
      'binanceTimeUnit',
      'maxWeight',
      'warehouse',
      'emr',
      'executionRoleArn',
      'bucket',
      'logGroup',
      'venvArchive',
      'emrPython',
      'timeoutMinutes',
      'runName',
      'wait',
      'cancelOnInterrupt',
      'dryRun',
    ]),
  },
  'config show': { args: [], options: keys<ConfigShowOptions>()([...TARGET, 'json']) },
  doctor: { args: [], options: keys<DoctorOptions>()([...TARGET, 'local', 'stateDir', 'timeout', 'json']) },
};

/** Runs the command line with actions that only keep what the handler would get. */
async function parse(argv: string[]): Promise<{ path: string; opts: Record<string, unknown> }> {
  let seen: { path: string; opts: Record<string, unknown> } | undefined;
  const actions: Actions = Object.fromEntries(
    Object.keys(TABLE).map((path) => [
      path,
      (...args: unknown[]) => {
        // commander calls an action with the arguments, the options, then the command.
        seen = { path, opts: args[args.length - 2] as Record<string, unknown> };
      },
    ]),
  );
  await buildProgram(actions).parseAsync(['node', 'coattail', ...argv]);
  if (!seen) throw new Error(`no action ran for ${argv.join(' ')}`);
  return seen;
}

function commandAt(path: string): Command {
  let cmd: Command = buildProgram({});
  for (const name of path.split(' ')) cmd = cmd.commands.find((c) => c.name() === name)!;
  return cmd;
}

/** The commands that run something: the program asks for each one's action by its path. */
function actionPaths(): string[] {
  const asked: string[] = [];
  buildProgram(
    new Proxy({} as Actions, {
      get: (_target, path) => {
        asked.push(String(path));
        return () => undefined;
      },
    }),
  );
  return asked;
}

/** A value for the option as given on the command line, and what the handler must then see. */
function sample(option: Option): { argv: string[]; env: string; expected: unknown } {
  const flag = option.long!;
  if (!option.required && !option.optional) {
    // A flag: --x sets true, --no-x sets false.
    return { argv: [flag], env: 'true', expected: !option.negate };
  }
  const value = option.argChoices?.[option.argChoices.length - 1] ?? `v-${option.attributeName()}`;
  const repeatable = Array.isArray(option.defaultValue);
  return { argv: [flag, value], env: value, expected: repeatable ? [value] : value };
}

const saved = { ...process.env };
beforeEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('COATTAIL_') || k.startsWith('AWS_')) delete process.env[k];
});
afterEach(() => {
  process.env = { ...saved };
});

describe('the command line reaches the handlers', () => {
  it('has a row for every command, and no row for a command that does not exist', () => {
    expect(actionPaths().sort()).toEqual(Object.keys(TABLE).sort());
  });

  describe.each(Object.entries(TABLE))('%s', (path, row) => {
    const options = commandAt(path).options.filter((o) => o.long !== '--help');

    it("declares exactly the handler's options listed for it", () => {
      expect(options.map((o) => o.attributeName()).sort()).toEqual([...row.options].sort());
    });

    it.each(options.map((o) => [o.long!, o] as const))('%s on the command line reaches the handler', async (_flag, option) => {
      const s = sample(option);
      const required = path === 'jobs pack-env' && option.long !== '--out' ? ['--out', 'v.tar.gz'] : [];
      const { path: ran, opts } = await parse([...path.split(' '), ...row.args, ...required, ...s.argv]);
      expect(ran).toBe(path);
      expect(opts[option.attributeName()]).toEqual(s.expected);
    });

    const withEnv = options.filter((o) => o.envVar !== undefined);
    it.runIf(withEnv.length > 0).each(withEnv.map((o) => [o.envVar!, o] as const))('%s reaches the handler', async (envVar, option) => {
      const s = sample(option);
      process.env[envVar] = s.env;
      const required = path === 'jobs pack-env' && option.long !== '--out' ? ['--out', 'v.tar.gz'] : [];
      const { opts } = await parse([...path.split(' '), ...row.args, ...required]);
      expect(opts[option.attributeName()]).toEqual(s.expected);
    });
  });
});
