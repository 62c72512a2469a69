/**
 * `demo --dir`: the demo deletes only in a folder it marked as its own. Real temporary folders; the
 * binary is spawned once to show the refusal as the user sees it (exit 2, one line, nothing deleted).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CoattailError } from '../../src/core/errors.js';
import { DEMO_MARK, prepareFolders } from '../../src/demo/folders.js';
import { planDemo, type DemoPlan } from '../../src/demo/plan.js';
import { testContext } from '../helpers/context.js';
import { BIN } from '../helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'coattail-demo-dir-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const ctx = testContext({ cwd: tmp });

/** A plan for `dir`, built without planDemo's own check (so the check beside the deletion is what is tested). */
function planFor(dir: string, fresh: boolean): DemoPlan {
  return { ...planDemo({ dir: path.join(tmp, 'unused') }, ctx, { canShowView: false }), dir, fresh };
}

/** A folder of the user's: their own checkpoints/, logs/, raw/, warehouse/, undelivered/ and a file. */
function usersFolder(name: string): string {
  const dir = path.join(tmp, name);
  for (const sub of ['checkpoints', 'logs', 'raw', 'warehouse', 'undelivered']) {
    mkdirSync(path.join(dir, sub), { recursive: true });
    writeFileSync(path.join(dir, sub, 'mine.txt'), 'keep me');
  }
  writeFileSync(path.join(dir, 'notes.txt'), 'keep me too');
  return dir;
}

function everyFile(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

function refusal(dir: string): string {
  return `coattail: --dir ${dir} is not the demo's folder: it holds other files and no ${DEMO_MARK} mark, and the demo deletes checkpoints/ (with --fresh also warehouse/, raw/, logs/, undelivered/) in its folder. Pick an empty or new folder for --dir (or COATTAIL_DEMO_DIR); nothing was deleted (a demo folder from an earlier coattail, which had no mark, can be removed)`;
}

function thrown(fn: () => unknown): CoattailError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CoattailError);
    return err as CoattailError;
  }
  throw new Error('nothing was thrown');
}

describe('a folder that is not the demo’s', () => {
  it.each([false, true])('is refused with one line and nothing in it is deleted (--fresh %s)', (fresh) => {
    const dir = usersFolder(`users-${fresh}`);
    const before = everyFile(dir);
    const err = thrown(() => prepareFolders(planFor(dir, fresh)));
    expect(err.exitCode).toBe(2);
    expect(err.line()).toBe(refusal(dir));
    expect(everyFile(dir)).toEqual(before);
    expect(existsSync(path.join(dir, DEMO_MARK))).toBe(false);
  });

  it('is refused by the plan, before anything starts', () => {
    const dir = usersFolder('users-plan');
    const err = thrown(() => planDemo({ dir, fresh: true }, ctx, { canShowView: false }));
    expect(err.exitCode).toBe(2);
    expect(err.line()).toBe(refusal(dir));
  });

  it('a file given as --dir is refused', () => {
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const err = thrown(() => planDemo({ dir: file }, ctx, { canShowView: false }));
    expect(err.line()).toBe(
      `coattail: --dir ${file} is not a folder: the demo needs a folder of its own. Pick an empty or new folder for --dir (or COATTAIL_DEMO_DIR)`,
    );
    expect(err.exitCode).toBe(2);
  });

  it('coattail demo --dir <it> --fresh: exit 2, one line on stderr, every file still there', async () => {
    const dir = usersFolder('users-cli');
    const before = everyFile(dir);
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'demo', '--headless', '--dir', dir, '--fresh'], {
        cwd: tmp,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.stderr.split('\n')).toEqual([refusal(dir), '']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
    expect(everyFile(dir)).toEqual(before);
  });
});

describe('the demo’s own folder', () => {
  it('a new folder is made and marked; a second run clears only its checkpoints; --fresh also the rest', () => {
    const dir = path.join(tmp, 'new', 'demo');
    prepareFolders(planFor(dir, false));
    expect(everyFile(dir)).toEqual([DEMO_MARK, 'logs']);

    // What a run leaves behind, and a file of the user's put in the demo's folder.
    for (const sub of ['checkpoints', 'warehouse', 'raw', 'undelivered', 'spark-conf']) {
      mkdirSync(path.join(dir, sub), { recursive: true });
      writeFileSync(path.join(dir, sub, 'state'), 'x');
    }
    writeFileSync(path.join(dir, 'logs', 'demo.log'), 'x');
    writeFileSync(path.join(dir, 'mine.txt'), 'x');

    prepareFolders(planFor(dir, false));
    expect(existsSync(path.join(dir, 'checkpoints'))).toBe(false);
    for (const kept of ['warehouse/state', 'raw/state', 'undelivered/state', 'spark-conf/state', 'logs/demo.log', 'mine.txt', DEMO_MARK]) {
      expect(existsSync(path.join(dir, kept)), kept).toBe(true);
    }

    prepareFolders(planFor(dir, true));
    expect(everyFile(dir)).toEqual([DEMO_MARK, 'logs', 'mine.txt', 'spark-conf', path.join('spark-conf', 'state')].sort());
  });

  it('an empty folder becomes the demo’s', () => {
    const dir = path.join(tmp, 'empty');
    mkdirSync(dir);
    expect(planDemo({ dir }, ctx, { canShowView: false }).dir).toBe(dir);
    prepareFolders(planFor(dir, true));
    expect(everyFile(dir)).toEqual([DEMO_MARK, 'logs']);
    // From now on it is the demo's, whatever it holds.
    mkdirSync(path.join(dir, 'checkpoints'));
    expect(planDemo({ dir }, ctx, { canShowView: false }).dir).toBe(dir);
  });
});
