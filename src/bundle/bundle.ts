/**
 * The jobs' bundle for EMR Serverless: a reproducible zip of jobs-py/coattail_jobs (its .py files) plus the
 * entry script jobs-py/emr_main.py, named by the sha256 of the zip's bytes. The entry script is inside the
 * zip too, so a change to it changes the hash, and it is uploaded beside the zip as the run's entry point.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CoattailError, errorMessage } from '../core/errors.js';
import { storedZip, type ZipEntry } from './zip.js';

export const PACKAGE_DIR = 'coattail_jobs';
export const ENTRY_SCRIPT = 'emr_main.py';
export const BUNDLE_ZIP = 'coattail_jobs.zip';

export interface JobsBundle {
  /** sha256 of `zip`, hex. */
  hash: string;
  zip: Buffer;
  entryScript: Buffer;
  /** The archive's entries, sorted. */
  files: string[];
}

function pythonFiles(root: string, rel: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const child = `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== '__pycache__') out.push(...pythonFiles(root, child));
    } else if (entry.isFile() && entry.name.endsWith('.py')) {
      out.push(child);
    }
  }
  return out;
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Builds the bundle from a jobs-py folder (the one holding coattail_jobs/ and emr_main.py). */
export function buildBundle(jobsPyDir: string): JobsBundle {
  try {
    const files = [...pythonFiles(jobsPyDir, PACKAGE_DIR), ENTRY_SCRIPT];
    const entries: ZipEntry[] = files.map((name) => ({ name, data: readFileSync(path.join(jobsPyDir, ...name.split('/'))) }));
    const zip = storedZip(entries);
    return {
      hash: sha256Hex(zip),
      zip,
      entryScript: readFileSync(path.join(jobsPyDir, ENTRY_SCRIPT)),
      files: entries.map((e) => e.name).sort(),
    };
  } catch (err) {
    throw new CoattailError(
      `cannot bundle the jobs in ${jobsPyDir}`,
      errorMessage(err),
      'reinstall coattail (its jobs-py/ holds the jobs), or in a checkout restore jobs-py/',
    );
  }
}
