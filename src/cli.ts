/**
 * The command line: which handler runs for which command. What each command accepts is in src/cli/
 * (one file per command group); the handlers are in src/commands/ and each is imported only when its
 * command runs, so `coattail --help` loads no AWS SDK, no React and no WebSocket code.
 */
import { Command } from 'commander';
import { backfillCommand } from './cli/backfill.js';
import { completionCommand } from './cli/completion.js';
import { configCommand } from './cli/config.js';
import { ddlCommand } from './cli/ddl.js';
import { demoCommand } from './cli/demo.js';
import { doctorCommand } from './cli/doctor.js';
import { ingestCommand } from './cli/ingest.js';
import { jobsCommand } from './cli/jobs.js';
import { localCommand } from './cli/local.js';
import { environmentHelp, markFlagOnly } from './cli/environment.js';
import { helpCommand, usageExitCode } from './cli/help.js';
import { examples, type Action } from './cli/options.js';
import { replayCommand } from './cli/replay.js';
import { reprocessCommand } from './cli/reprocess.js';
import { simulateCommand } from './cli/simulate.js';
import { tailCommand } from './cli/tail.js';
import { watchCommand } from './cli/watch.js';
import type { CommandContext } from './core/context.js';
import { runCommand, type GlobalOptions } from './core/run.js';

/** Every command's action, by the command's path (`jobs submit`). */
export type Actions = Record<string, Action>;

type Handler = (ctx: CommandContext) => Promise<number>;

/** The real actions: each imports its handler when it runs, and runs it with the command's context. */
export function handlerActions(global: () => GlobalOptions): Actions {
  const run = (handler: Handler): Promise<void> => runCommand(global(), handler);
  return {
    ingest: async (opts) => run(async (ctx) => (await import('./commands/ingest.js')).ingest(opts, ctx)),
    simulate: async (opts) => run(async (ctx) => (await import('./commands/simulate.js')).simulate(opts, ctx)),
    replay: async (job: string, opts) => run(async (ctx) => (await import('./commands/replay.js')).replay({ ...opts, job }, ctx)),
    watch: async (what: string, opts) => run(async (ctx) => (await import('./commands/watch.js')).watch(what, opts, ctx)),
    tail: async (opts) => run(async (ctx) => (await import('./commands/tail.js')).tail(opts, ctx)),
    'local up': async (opts) => run(async (ctx) => (await import('./commands/local/up.js')).localUp(opts, ctx)),
    'local down': async (opts) => run(async (ctx) => (await import('./commands/local/down.js')).localDown(opts, ctx)),
    'local status': async (opts) => run(async (ctx) => (await import('./commands/local/status.js')).localStatus(opts, ctx)),
    'local peek': async (opts) => run(async (ctx) => (await import('./commands/local/peek.js')).localPeek(opts, ctx)),
    demo: async (opts) =>
      run(async (ctx) => {
        const [{ demo }, { demoAlertsView }] = await Promise.all([import('./commands/demo/demo.js'), import('./demo/ui.js')]);
        return demo(opts, ctx, { ui: demoAlertsView });
      }),
    'demo schema-evolution': async (opts) =>
      run(async (ctx) => (await import('./commands/demo/schema-evolution.js')).schemaEvolutionDemo(opts, ctx)),
    'jobs submit': async (job: string, args: string[], opts) =>
      run(async (ctx) => (await import('./commands/jobs/submit.js')).jobsSubmit({ ...opts, job, args }, ctx)),
    'jobs list': async (opts) => run(async (ctx) => (await import('./commands/jobs/list.js')).jobsList(opts, ctx)),
    'jobs status': async (runId: string, opts) =>
      run(async (ctx) => (await import('./commands/jobs/status.js')).jobsStatus({ ...opts, runId }, ctx)),
    'jobs logs': async (runId: string, opts) =>
      run(async (ctx) => (await import('./commands/jobs/logs.js')).jobsLogs({ ...opts, runId }, ctx)),
    'jobs cancel': async (runId: string, opts) =>
      run(async (ctx) => (await import('./commands/jobs/cancel.js')).jobsCancel({ ...opts, runId }, ctx)),
    'jobs pack-env': async (opts) => run(async (ctx) => (await import('./commands/jobs/pack-env.js')).jobsPackEnv(opts, ctx)),
    'ddl apply': async (opts) => run(async (ctx) => (await import('./commands/ddl.js')).ddlApply(opts, ctx)),
    reprocess: async (opts) => run(async (ctx) => (await import('./commands/reprocess.js')).reprocess(opts, ctx)),
    backfill: async (opts) => run(async (ctx) => (await import('./commands/backfill.js')).backfill(opts, ctx)),
    'config show': async (opts) => run(async (ctx) => (await import('./commands/config/show.js')).configShow(opts, ctx)),
    doctor: async (opts) => run(async (ctx) => (await import('./commands/doctor.js')).doctor(opts, ctx)),
    completion: async (shell: string, _opts, command: Command) =>
      run(async (ctx) => (await import('./commands/completion.js')).completion({ shell, program: command.parent! }, ctx)),
  };
}

/** The program; `actions` replaces the handlers (tests hold each command's parsed options this way). */
export function buildProgram(actions?: Actions): Command {
  const program = new Command('coattail')
    .description("Coat Tail Capital's trade pipeline: Binance and Coinbase trades → Kinesis → Spark → alerts and Iceberg.")
    .version('0.1.0')
    .option('-v, --verbose', "debug logs on stderr, and local Spark's own output (else in .coattail/logs/)")
    .option('-q, --quiet', 'only warnings and errors on stderr')
    // A usage error is one line and exit 2, like every other bad option (main() turns it into the exit).
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(usageLine(text)) })
    // -v and -q in every command's help, not only the root's (subcommands inherit this setting).
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'after',
      examples([
        'make demo',
        'coattail local up',
        'coattail simulate --scenario default',
        'coattail ingest --local --max-trades 1000',
        'coattail ingest --sink stdout --duration 10',
      ]) + environmentHelp(),
    );
  program.hook('preAction', (_program, command) => readFlagsFromEnv(command));
  const a = actions ?? handlerActions(() => program.opts<GlobalOptions>());
  const act = (path: string): Action =>
    a[path] ??
    (() => {
      throw new Error(`no action for coattail ${path}`);
    });
  ingestCommand(program, act('ingest'));
  simulateCommand(program, act('simulate'));
  replayCommand(program, act('replay'));
  watchCommand(program, act('watch'));
  tailCommand(program, act('tail'));
  localCommand(program, { up: act('local up'), down: act('local down'), status: act('local status'), peek: act('local peek') });
  demoCommand(program, { demo: act('demo'), schemaEvolution: act('demo schema-evolution') });
  jobsCommand(program, {
    submit: act('jobs submit'),
    list: act('jobs list'),
    status: act('jobs status'),
    logs: act('jobs logs'),
    cancel: act('jobs cancel'),
    packEnv: act('jobs pack-env'),
  });
  ddlCommand(program, { apply: act('ddl apply') });
  reprocessCommand(program, act('reprocess'));
  backfillCommand(program, act('backfill'));
  configCommand(program, { show: act('config show') });
  doctorCommand(program, act('doctor'));
  completionCommand(program, act('completion'));
  helpCommand(program);
  markFlagOnly(program);
  return program;
}

/** commander's `error: ...` message as our one line, with where to look. */
function usageLine(text: string): string {
  // commander may add a suggestion on a line of its own ("(Did you mean --max-trades?)"): one line.
  const message = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\.$/, '');
  return `coattail: ${message}. Run with --help for usage\n`;
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['', '0', 'false', 'no', 'off']);

/**
 * commander turns a flag on whenever its environment variable is set, whatever the value: so
 * COATTAIL_AGGREGATE=false would aggregate. A flag set from the environment takes true/false, 1/0,
 * yes/no or on/off (any case); anything else is a usage error.
 */
export function readFlagsFromEnv(command: Command): void {
  for (const option of command.options) {
    if (option.required || option.optional || !option.envVar || option.negate) continue;
    const key = option.attributeName();
    if (command.getOptionValueSource(key) !== 'env') continue;
    const raw = process.env[option.envVar] ?? '';
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) continue;
    if (!FALSE_WORDS.has(word)) {
      command.error(`${option.envVar}='${raw}' is not a yes/no value: set it to true or false (1 or 0) for ${option.long ?? key}`, {
        code: 'coattail.invalidEnvFlag',
      });
    }
    command.setOptionValueWithSource(key, undefined, 'env');
  }
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exit(usageExitCode(program, argv.slice(2), err, process.stderr));
  }
}
