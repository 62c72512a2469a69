import type { Writable } from 'node:stream';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** `json`: one JSON object a line, for log shippers. */
  format?: 'text' | 'json';
  color?: boolean;
  clock?: () => number;
}

const colors: Record<Exclude<LogLevel, 'silent'>, string> = {
  debug: '\x1b[90m',
  info: '\x1b[36m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
};

function formatValue(v: LogFields[string]): string {
  const s = String(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

/** Logs go to stderr (people); stdout stays data only. */
export function createLogger(out: Writable, opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const level = opts.level ?? 'info';
  const format = opts.format ?? 'text';
  const clock = opts.clock ?? Date.now;
  const write = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void => {
    if (rank[lvl] < rank[level]) return;
    const all = { ...base, ...fields };
    const time = new Date(clock()).toISOString();
    if (format === 'json') {
      out.write(`${JSON.stringify({ time, level: lvl, msg, ...all })}\n`);
      return;
    }
    const kv = Object.entries(all)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
    const tag = opts.color ? `${colors[lvl]}${lvl.padEnd(5)}\x1b[0m` : lvl.padEnd(5);
    out.write(`${time.slice(11, 23)} ${tag} ${msg}${kv ? ` ${kv}` : ''}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    enabled: (l) => rank[l] >= rank[level],
    child: (fields) => createLogger(out, opts, { ...base, ...fields }),
  };
}

export const silentLogger: Logger = createLogger({ write: () => true } as unknown as Writable, { level: 'silent' });

export function parseLogLevel(text: string | undefined): LogLevel | undefined {
  if (!text) return undefined;
  const l = text.toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(l) ? (l as LogLevel) : undefined;
}
