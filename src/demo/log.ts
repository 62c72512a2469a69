/**
 * The demo's log: every line into `<dir>/logs/demo.log`, and onto stderr except while the live view
 * owns the terminal (a log line there would tear it).
 */
import { appendFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { createLogger, LOG_LEVELS, type LogFields, type Logger, type LogLevel } from '../core/logger.js';

export interface DemoLog {
  logger: Logger;
  /** While muted, nothing goes to stderr (the file still gets everything). */
  mute(muted: boolean): void;
}

/** The most detailed level the given logger writes. */
function levelOf(logger: Logger): LogLevel {
  return LOG_LEVELS.find((l) => logger.enabled(l)) ?? 'silent';
}

function tee(a: Logger, b: Logger): Logger {
  const both =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (msg: string, fields?: LogFields): void => {
      a[level](msg, fields);
      b[level](msg, fields);
    };
  return {
    debug: both('debug'),
    info: both('info'),
    warn: both('warn'),
    error: both('error'),
    enabled: (l) => a.enabled(l) || b.enabled(l),
    child: (fields) => tee(a.child(fields), b.child(fields)),
  };
}

export function demoLog(file: string, stderr: Writable, base: Logger, opts: { color: boolean; json: boolean }): DemoLog {
  let muted = false;
  const toStderr = { write: (chunk: string): boolean => (muted ? true : stderr.write(chunk)) } as unknown as Writable;
  const toFile = { write: (chunk: string): boolean => (appendFileSync(file, chunk), true) } as unknown as Writable;
  const format = opts.json ? 'json' : 'text';
  const screen = createLogger(toStderr, { level: levelOf(base), format, color: opts.color });
  const kept = createLogger(toFile, { level: base.enabled('debug') ? 'debug' : 'info', format: 'text', color: false });
  return { logger: tee(screen, kept), mute: (m) => (muted = m) };
}
