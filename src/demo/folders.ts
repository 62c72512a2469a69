/** The demo's folder (`--dir`): the warehouse, checkpoints, raw zone, logs and Spark's conf. */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CoattailError, errorMessage } from '../core/errors.js';
import type { DemoPlan } from './plan.js';

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

/**
 * The demo's folder. Its emulators start empty every run, so the checkpoints (positions in the last
 * run's stream) are always cleared; --fresh also clears the warehouse, the raw zone and the logs.
 * Only these known sub-folders are ever removed, whatever --dir points at.
 */
export function prepareFolders(plan: DemoPlan): Folders {
  const f = folders(plan.dir);
  try {
    mkdirSync(plan.dir, { recursive: true });
    const clear = plan.fresh ? [f.warehouse, f.checkpoints, f.raw, f.logs, f.undelivered] : [f.checkpoints];
    for (const d of clear) rmSync(d, { recursive: true, force: true });
    mkdirSync(f.logs, { recursive: true });
  } catch (err) {
    throw new CoattailError(`cannot prepare the demo folder ${plan.dir}`, errorMessage(err), 'Pass another --dir (or COATTAIL_DEMO_DIR), or fix its permissions');
  }
  return f;
}
