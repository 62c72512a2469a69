/** The demo's folder (`--dir`): the warehouse, checkpoints, raw zone, logs and Spark's conf. */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CoattailError, errorMessage, usageError } from '../core/errors.js';

export interface Folders {
  warehouse: string;
  checkpoints: string;
  raw: string;
  logs: string;
  undelivered: string;
  conf: string;
}

export function folders(dir: string): Folders {
  return {
    warehouse: path.join(dir, 'warehouse'),
    checkpoints: path.join(dir, 'checkpoints'),
    raw: path.join(dir, 'raw'),
    logs: path.join(dir, 'logs'),
    undelivered: path.join(dir, 'undelivered'),
    conf: path.join(dir, 'spark-conf'),
  };
}

/** The file that marks a folder as the demo's own: only such a folder has anything deleted in it. */
export const DEMO_MARK = '.coattail-demo';
const MARK_TEXT =
  'This folder belongs to coattail demo: every run clears checkpoints/ here; --fresh also clears warehouse/, raw/, logs/ and undelivered/.\n';

/**
 * Whether `dir` may be the demo's folder: one the demo marked, or one that does not exist yet or is
 * empty (it becomes the demo's). Anything else is the user's, and the demo would delete in it: refused.
 */
export function checkDemoDir(dir: string): 'ours' | 'new' {
  let entries: string[];
  try {
    if (!existsSync(dir)) return 'new';
    if (!statSync(dir).isDirectory())
      throw usageError(
        `--dir ${dir} is not a folder`,
        'the demo needs a folder of its own',
        'pick an empty or new folder for --dir (or COATTAIL_DEMO_DIR)',
      );
    entries = readdirSync(dir);
  } catch (err) {
    if (err instanceof CoattailError) throw err;
    throw new CoattailError(
      `cannot read the demo folder ${dir}`,
      errorMessage(err),
      'Pass another --dir (or COATTAIL_DEMO_DIR), or fix its permissions',
    );
  }
  if (entries.includes(DEMO_MARK)) return 'ours';
  if (entries.length === 0) return 'new';
  throw usageError(
    `--dir ${dir} is not the demo's folder`,
    `it holds other files and no ${DEMO_MARK} mark, and the demo deletes checkpoints/ (with --fresh also warehouse/, raw/, logs/, undelivered/) in its folder`,
    'pick an empty or new folder for --dir (or COATTAIL_DEMO_DIR); nothing was deleted (a demo folder from an earlier coattail, which had no mark, can be removed)',
  );
}

/**
 * The demo's folder, made or reused. Its emulators start empty every run, so the checkpoints (positions
 * in the last run's stream) are always cleared; --fresh also clears the warehouse, the raw zone and the
 * logs. Only these known sub-folders are ever removed, and only in a folder the demo marked as its own.
 */
export function prepareFolders(plan: { dir: string; fresh: boolean }): Folders {
  const f = folders(plan.dir);
  const state = checkDemoDir(plan.dir);
  try {
    mkdirSync(plan.dir, { recursive: true });
    if (state === 'new') writeFileSync(path.join(plan.dir, DEMO_MARK), MARK_TEXT);
    const clear = plan.fresh ? [f.warehouse, f.checkpoints, f.raw, f.logs, f.undelivered] : [f.checkpoints];
    for (const d of clear) rmSync(d, { recursive: true, force: true });
    mkdirSync(f.logs, { recursive: true });
  } catch (err) {
    throw new CoattailError(
      `cannot prepare the demo folder ${plan.dir}`,
      errorMessage(err),
      'Pass another --dir (or COATTAIL_DEMO_DIR), or fix its permissions',
    );
  }
  return f;
}
