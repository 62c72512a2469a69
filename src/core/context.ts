import type { Writable } from 'node:stream';
import { createLogger, parseLogLevel, type Logger } from './logger.js';
import { systemClock, type Clock } from './time.js';

/**
 * What a command handler is given: where data and people's output go, the environment, a clock,
 * a logger, and a signal that aborts on SIGINT/SIGTERM/SIGHUP. Tests inject their own.
 */
export interface CommandContext {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  clock: Clock;
  logger: Logger;
  /** Aborted when the user asks the process to stop (SIGINT/SIGTERM/SIGHUP). */
  signal: AbortSignal;
  cwd: string;
  /**
   * Registers what must still happen when a second signal ends the process at once: it runs
   * synchronously right before that exit (nothing awaited finishes then), e.g. to save what is only
   * in memory. Returns a function that removes it. Absent where no signal can end the process.
   */
  onForcedExit?: (save: () => void) => () => void;
}

export function useColor(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export function processContext(
  signal: AbortSignal,
  opts: { verbose?: boolean; quiet?: boolean } = {},
  onForcedExit?: (save: () => void) => () => void,
): CommandContext {
  const env = process.env;
  const level = opts.verbose ? 'debug' : opts.quiet ? 'warn' : (parseLogLevel(env.COATTAIL_LOG_LEVEL) ?? 'info');
  const format = env.COATTAIL_LOG_FORMAT === 'json' ? 'json' : 'text';
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env,
    clock: systemClock,
    logger: createLogger(process.stderr, { level, format, color: useColor(env, process.stderr) }),
    signal,
    cwd: process.cwd(),
    ...(onForcedExit ? { onForcedExit } : {}),
  };
}
