import { constants } from 'node:os';
import { CoattailError, errorMessage } from './errors.js';
import { processContext, type CommandContext } from './context.js';

export interface GlobalOptions {
  verbose?: boolean;
  quiet?: boolean;
}

/**
 * Runs one command handler with the process's context: SIGINT/SIGTERM/SIGHUP abort its signal (a
 * second signal exits at once, after the handler's onForcedExit work), a CoattailError prints as one
 * line, anything else as one line plus a hint. The only place that turns outcomes into exit codes.
 */
export async function runCommand(global: GlobalOptions, handler: (ctx: CommandContext) => Promise<number | void>): Promise<never> {
  const controller = new AbortController();
  const forcedExitWork = new Set<() => void>();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`coattail: second ${sig}, exiting now without waiting.\n`);
      for (const save of forcedExitWork) {
        try {
          save();
        } catch (err) {
          process.stderr.write(`coattail: could not finish before exiting: ${errorMessage(err)}\n`);
        }
      }
      process.exit(128 + (constants.signals[sig] ?? 2));
    }
    controller.abort(new Error(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A closed terminal or a supervisor's hang-up: stop as cleanly as on SIGTERM, not at once.
  process.on('SIGHUP', onSignal);
  // With the terminal gone, writing logs fails; that must not end the run before it has flushed.
  process.stderr.on('error', () => {});
  const onForcedExit = (save: () => void): (() => void) => {
    forcedExitWork.add(save);
    return () => forcedExitWork.delete(save);
  };
  const ctx = processContext(controller.signal, global, onForcedExit);
  let code = 0;
  try {
    code = (await handler(ctx)) ?? 0;
  } catch (err) {
    if (err instanceof CoattailError) {
      process.stderr.write(`${err.line()}\n`);
      code = err.exitCode;
    } else {
      process.stderr.write(`coattail: unexpected error: ${errorMessage(err)}. Re-run with --verbose and report it if it persists.\n`);
      if (global.verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
      code = 1;
    }
  }
  await flushStreams();
  process.exit(code);
}

/** Lets buffered output reach a slow reader, but never waits on a stalled one for long. */
async function flushStreams(timeoutMs = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(
      [process.stdout, process.stderr].map(
        (s) => new Promise<void>((resolve) => (s.writableNeedDrain ? s.once('drain', () => resolve()) : resolve())),
      ),
    ),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
}
