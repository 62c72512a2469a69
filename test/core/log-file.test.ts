import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandLogPath, showLogTail } from '../../src/core/log-file.js';
import { tempDir, testContext } from '../helpers/context.js';

describe("a command's log file", () => {
  it('is named after the command and the time, under .coattail/logs of the working folder', () => {
    expect(commandLogPath('replay', '/work/x', Date.UTC(2026, 11, 7, 23, 15, 0, 250))).toBe(
      '/work/x/.coattail/logs/replay-20261207T231500Z.log',
    );
  });

  it('shows its last lines with its path after a failure, and nothing when the tool wrote nothing', () => {
    const cwd = tempDir('spark-log');
    const file = path.join(cwd, '.coattail/logs/replay.log');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') + '\n\n');
    const ctx = testContext({ cwd });
    showLogTail(file, "Spark's", ctx);
    expect(ctx.err.lines()).toEqual([
      "last 20 lines of Spark's log (.coattail/logs/replay.log):",
      ...Array.from({ length: 20 }, (_, i) => `line ${i + 11}`),
    ]);
    writeFileSync(file, '');
    const empty = testContext({ cwd });
    showLogTail(file, "Spark's", empty);
    expect(empty.err.text()).toBe('');
  });
});
