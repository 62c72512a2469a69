import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { formatByteProgress, formatBytes, startTask } from '../../src/core/progress.js';

function target(tty: boolean, level: 'info' | 'warn' = 'info') {
  const stream = new PassThrough();
  // What a terminal's stream adds (tty.WriteStream), writing the same escape codes.
  const stderr = Object.assign(stream, {
    isTTY: tty,
    columns: 80,
    cursorTo: (x: number) => stream.write(`\x1b[${x + 1}G`),
    moveCursor: (_dx: number, dy: number) => stream.write(dy < 0 ? `\x1b[${-dy}A` : ''),
    clearLine: () => stream.write('\x1b[2K'),
  });
  let text = '';
  stderr.on('data', (c: Buffer) => (text += c.toString()));
  const logger = createLogger(stderr, { level, clock: () => 0 });
  return { t: { stderr, env: { TERM: 'xterm' }, logger }, out: () => text };
}

describe('progress', () => {
  it('off a terminal writes plain log lines, the changing text at most once per interval', () => {
    const { t, out } = target(false);
    let clock = 0;
    const task = startTask(t, 'uploading', { plainEveryMs: 1000, now: () => clock });
    task.update('1 MiB');
    clock = 999;
    task.update('2 MiB');
    clock = 1000;
    task.update('3 MiB');
    task.line('a note');
    task.succeed('uploaded');
    const lines = out().trim().split('\n');
    expect(lines.map((l) => l.replace(/^\S+ info\s+/, ''))).toEqual(['uploading', '3 MiB', 'a note', 'uploaded']);
    expect(out()).not.toContain('\x1b');
  });

  it('on a terminal draws a spinner and ends with the outcome', () => {
    const { t, out } = target(true);
    const task = startTask(t, 'packing');
    task.line('kept');
    task.fail('pip failed');
    expect(out()).toContain('kept\n');
    expect(out()).toContain('pip failed');
    expect(out()).toContain('\x1b['); // it redraws in place
  });

  it('with -q shows only the failure', () => {
    const { t, out } = target(true, 'warn');
    const task = startTask(t, 'packing');
    task.update('more');
    task.succeed('done');
    expect(out()).toBe('');
    startTask(t, 'again').fail('broke');
    expect(out()).toContain('broke');
  });

  it('with rawLines writes the lines as they are, at any log level, off a terminal', () => {
    const { t, out } = target(false, 'warn');
    const task = startTask(t, 'following', { rawLines: true });
    task.update('RUNNING 3s');
    task.line('12:00:00 whale-detector: PENDING → RUNNING');
    task.stop();
    expect(out()).toBe('12:00:00 whale-detector: PENDING → RUNNING\n');
  });

  it('formats bytes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(90 * 1024 * 1024)).toBe('90.0 MiB');
    expect(formatByteProgress(12 * 1024 * 1024, 90 * 1024 * 1024)).toBe('12.0 MiB of 90.0 MiB (13%)');
  });
});
