import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaEvolutionArgs, schemaEvolutionDemo } from '../../../src/commands/demo/schema-evolution.js';
import { CoattailError } from '../../../src/core/errors.js';
import { tempDir, testContext } from '../../helpers/context.js';
import { standInPython, type StandInPython } from '../../helpers/python.js';

/** A stand-in interpreter: prints a report line, exits with the given status. */
const fakePython = (dir: string, exitCode: number): StandInPython =>
  standInPython(
    dir,
    `process.stderr.write('spark: starting\\n');\nprocess.stdout.write('result: no data file was rewritten\\n');\nprocess.exit(${exitCode});`,
  );

// The demo itself (a real Iceberg table, the files before and after) is proven by jobs-py/tests/
// test_schema_evolution.py: a real run takes minutes of Spark on a busy machine, too long for this suite.
describe('coattail demo schema-evolution', () => {
  it('runs python -m coattail_jobs schema-evolution-demo with the warehouse, and --json when asked', () => {
    expect(schemaEvolutionArgs('/w h', false)).toEqual(['-m', 'coattail_jobs', 'schema-evolution-demo', '--warehouse', '/w h']);
    expect(schemaEvolutionArgs('/w', true)).toEqual(['-m', 'coattail_jobs', 'schema-evolution-demo', '--warehouse', '/w', '--json']);
  });

  it("passes the report through to stdout and the demo's status back", async () => {
    const cwd = tempDir('evolution');
    const stand = fakePython(cwd, 0);
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: stand.python } });
    expect(await schemaEvolutionDemo({ warehouse: 'wh', json: true }, ctx)).toBe(0);
    expect(stand.seen().argv).toEqual(['-m', 'coattail_jobs', 'schema-evolution-demo', '--warehouse', path.join(cwd, 'wh'), '--json']);
    expect(ctx.out.text()).toBe('result: no data file was rewritten\n');
    expect(ctx.err.text()).toBe('spark: starting\n');

    const failing = fakePython(tempDir('evolution'), 1);
    const again = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: failing.python } });
    expect(await schemaEvolutionDemo({}, again)).toBe(1);
    expect(failing.seen().argv).toEqual([
      '-m',
      'coattail_jobs',
      'schema-evolution-demo',
      '--warehouse',
      path.join(cwd, '.coattail/warehouse'),
    ]);
  });

  it('fails with one line when the interpreter cannot be run', async () => {
    const cwd = tempDir('evolution');
    const err = (await schemaEvolutionDemo(
      {},
      testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: path.join(cwd, 'no-python') } }),
    ).catch((e: unknown) => e)) as CoattailError;
    expect(err).toBeInstanceOf(CoattailError);
    expect(err.line()).toMatch(
      /^coattail: cannot run .*no-python: .*ENOENT.*\. Set COATTAIL_PYTHON to a Python with coattail_jobs installed/,
    );
  });
});
