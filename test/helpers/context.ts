import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, onTestFinished } from 'vitest';
import { createLogger, type Logger } from '../../src/core/logger.js';
import type { CommandContext } from '../../src/core/context.js';
import { systemClock } from '../../src/core/time.js';

/** A Writable that keeps what is written, for asserting on stdout/stderr/logs. */
export class Capture extends Writable {
  chunks: string[] = [];
  isTTY = false;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  text(): string {
    return this.chunks.join('');
  }
  lines(): string[] {
    return this.text()
      .split('\n')
      .filter((l) => l.length > 0);
  }
}

export interface LogRecord {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** A JSON logger whose records can be read back. */
export function captureLogger(level: 'debug' | 'info' = 'debug'): { logger: Logger; records: () => LogRecord[] } {
  const out = new Capture();
  return {
    logger: createLogger(out, { level, format: 'json' }),
    records: () => out.lines().map((l) => JSON.parse(l) as LogRecord),
  };
}

/** A command context with captured output, for running handlers in-process. */
export function testContext(
  overrides: Partial<CommandContext> = {},
): CommandContext & { out: Capture; err: Capture; abort: AbortController } {
  const out = new Capture();
  const err = new Capture();
  const abort = new AbortController();
  return {
    stdout: out,
    stderr: err,
    env: { ...process.env },
    clock: systemClock,
    logger: createLogger(err, { level: 'warn' }),
    signal: abort.signal,
    cwd: process.cwd(),
    out,
    err,
    abort,
    ...overrides,
  };
}

/** Polls until the predicate holds, or fails with the message after timeoutMs. */
export async function waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A new folder under the system's temp folder (`coattail-<name>-…`), removed with all it holds when the
 * current test ends, or, made outside a test (a describe body), when the file's tests end.
 */
export function tempDir(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `coattail-${name}-`));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    onTestFinished(remove);
  } catch {
    afterAll(remove);
  }
  return dir;
}
