import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { schemaEvolutionArgs, schemaEvolutionDemo } from '../src/commands/demo/schema-evolution.js';
import { CoattailError } from '../src/core/errors.js';
import { testContext } from './helpers.js';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coattail-evolution-'));
  tempDirs.push(dir);
  return dir;
}

/** A stand-in interpreter: records its arguments, prints a report line, exits with the given status. */
function fakePython(dir: string, exitCode: number): { python: string; record: string } {
  const python = path.join(dir, 'python');
  const record = path.join(dir, 'argv.json');
  writeFileSync(
    python,
    `#!${process.execPath}
require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(2)));
process.stderr.write('spark: starting\\n');
process.stdout.write('result: no data file was rewritten\\n');
process.exit(${exitCode});
`,
  );
  chmodSync(python, 0o755);
  return { python, record };
}

// The demo itself (a real Iceberg table, the files before and after) is proven by jobs-py/tests/
// test_schema_evolution.py: a real run takes minutes of Spark on a busy machine, too long for this suite.
describe('coattail demo schema-evolution', () => {
  it('runs python -m coattail_jobs schema-evolution-demo with the warehouse, and --json when asked', () => {
    expect(schemaEvolutionArgs('/w h', false)).toEqual(['-m', 'coattail_jobs', 'schema-evolution-demo', '--warehouse', '/w h']);
    expect(schemaEvolutionArgs('/w', true)).toEqual(['-m', 'coattail_jobs', 'schema-evolution-demo', '--warehouse', '/w', '--json']);
  });

  it("passes the report through to stdout and the demo's status back", async () => {
    const cwd = tempDir();
    const { python, record } = fakePython(cwd, 0);
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: python } });
    expect(await schemaEvolutionDemo({ warehouse: 'wh', json: true }, ctx)).toBe(0);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual(['-m', 'coattail_jobs', 'schema-evolution-demo', '--warehouse', path.join(cwd, 'wh'), '--json']);
    expect(ctx.out.text()).toBe('result: no data file was rewritten\n');
    expect(ctx.err.text()).toBe('spark: starting\n');

    const failing = fakePython(tempDir(), 1);
    const again = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: failing.python } });
    expect(await schemaEvolutionDemo({}, again)).toBe(1);
    expect(JSON.parse(readFileSync(failing.record, 'utf8'))).toEqual(['-m', 'coattail_jobs', 'schema-evolution-demo', '--warehouse', path.join(cwd, '.coattail/warehouse')]);
  });

  it('fails with one line when the interpreter cannot be run', async () => {
    const cwd = tempDir();
    const err = (await schemaEvolutionDemo({}, testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: path.join(cwd, 'no-python') } })).catch((e: unknown) => e)) as CoattailError;
    expect(err).toBeInstanceOf(CoattailError);
    expect(err.line()).toMatch(/^coattail: cannot run .*no-python: .*ENOENT.*\. Run make install-py/);
  });
});
