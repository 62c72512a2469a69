/** A stand-in for the jobs' interpreter, for handlers that run `python -m coattail_jobs ...`. */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface StandInPython {
  /** The executable to pass as COATTAIL_PYTHON. */
  python: string;
  /** Where it writes what it was run with; absent until it runs. */
  record: string;
  /** Its arguments (after the interpreter) and working folder, as it saw them. */
  seen(): { argv: string[]; cwd: string };
}

/**
 * A Node script in `dir` that records its arguments and working folder, then runs `body` (JavaScript,
 * e.g. writes a report line and exits with a status).
 */
export function standInPython(dir: string, body: string): StandInPython {
  const python = path.join(dir, 'python');
  const record = path.join(dir, 'argv.json');
  writeFileSync(
    python,
    `#!${process.execPath}\nrequire('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd() }));\n${body}\n`,
  );
  chmodSync(python, 0o755);
  return { python, record, seen: () => JSON.parse(readFileSync(record, 'utf8')) as { argv: string[]; cwd: string } };
}
