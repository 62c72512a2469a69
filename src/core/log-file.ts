/**
 * A command's log file for a tool's own output (Spark's start-up chatter, pip's): under `.coattail/logs/`
 * of the working folder, beside the warehouse and the checkpoints, named after the command and the time.
 * It is named in one line when the work starts, and its last lines are shown when the work fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from './context.js';

export const LOG_TAIL_LINES = 20;

/** `.coattail/logs/replay-20261207T231500Z.log` under `cwd`. */
export function commandLogPath(command: string, cwd: string, nowMs: number): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return path.resolve(cwd, '.coattail', 'logs', `${command}-${stamp}.log`);
}

/** The path as a person reads it: relative to the working folder when inside it. */
export function shownPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

/** After a failure: the log's last lines on stderr, with its path (nothing when it is empty or absent). */
export function showLogTail(file: string, whose: string, ctx: CommandContext, lines = LOG_TAIL_LINES): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const tail = text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .slice(-lines);
  // Empty: the tool never started, and the command's own line said why.
  if (tail.length === 0) return;
  ctx.stderr.write(`last ${tail.length} lines of ${whose} log (${shownPath(file, ctx.cwd)}):\n${tail.join('\n')}\n`);
}
