/**
 * Progress of long work on stderr. On a terminal an ora spinner says what is happening, lines that must
 * stay are printed above it, and it ends with ✔ or ✖. Anywhere else (a pipe, a log file, CI) there are no
 * control characters: plain log lines, the spinner's changing text at most once every `plainEveryMs`
 * (byte counts would otherwise flood a log). With -q only the failure shows.
 */
import ora, { type Ora } from 'ora';
import type { Writable } from 'node:stream';
import type { Logger } from './logger.js';

export interface ProgressTarget {
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

export interface Task {
  /** What is happening now: the spinner's text, or (throttled) a log line. */
  update(text: string): void;
  /** A line that stays, printed above the spinner. */
  line(text: string): void;
  /** The work is done: ✔ and the text (or the last one). */
  succeed(text?: string): void;
  /** The work failed: ✖ and the text. */
  fail(text: string): void;
  /** Removes the spinner without a last line (the caller reports the outcome itself). */
  stop(): void;
}

export interface TaskOptions {
  /** Off a terminal, the least time between two lines from `update`; the first always shows. */
  plainEveryMs?: number;
  now?: () => number;
  /**
   * `line` writes its text to stderr as it is, at any log level, instead of as a log record: for lines that
   * are the command's report rather than its log (a job run's state transitions).
   */
  rawLines?: boolean;
}

/** A spinner only where a person watches: stderr is a terminal that can redraw, and the logs are at info. */
export function spinnerWanted(target: ProgressTarget): boolean {
  return target.stderr.isTTY === true && target.env.TERM !== 'dumb' && target.logger.enabled('info');
}

export function startTask(target: ProgressTarget, text: string, opts: TaskOptions = {}): Task {
  return spinnerWanted(target) ? spinnerTask(target, text) : plainTask(target, text, opts);
}

function spinnerTask(target: ProgressTarget, text: string): Task {
  const spinner: Ora = ora({ text, stream: target.stderr, isEnabled: true, discardStdin: false }).start();
  return {
    update: (t) => {
      spinner.text = t;
    },
    line: (t) => {
      spinner.clear();
      target.stderr.write(`${t}\n`);
      spinner.render();
    },
    succeed: (t) => void spinner.succeed(t),
    fail: (t) => void spinner.fail(t),
    stop: () => void spinner.stop(),
  };
}

function plainTask(target: ProgressTarget, text: string, opts: TaskOptions): Task {
  const every = opts.plainEveryMs ?? 10_000;
  const now = opts.now ?? Date.now;
  const log = target.logger;
  let last = text;
  let shownAt = now();
  log.info(text);
  return {
    update: (t) => {
      last = t;
      if (now() - shownAt < every) return;
      shownAt = now();
      log.info(t);
    },
    line: (t) => (opts.rawLines ? void target.stderr.write(`${t}\n`) : log.info(t)),
    succeed: (t) => log.info(t ?? last),
    fail: (t) => log.error(t),
    stop: () => {},
  };
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 94371840 → "90.0 MiB". */
export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** "12.0 MiB of 90.0 MiB (13%)"; without a total, the bytes alone. */
export function formatByteProgress(done: number, total: number | undefined): string {
  if (!total) return formatBytes(done);
  return `${formatBytes(done)} of ${formatBytes(total)} (${Math.floor((done / total) * 100)}%)`;
}
