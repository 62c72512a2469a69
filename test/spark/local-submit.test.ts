import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobsSubmit } from '../../src/commands/jobs/submit.js';
import { CoattailError } from '../../src/core/errors.js';
import { tempDir, testContext } from '../helpers/context.js';
import { packageRoot } from '../../src/core/dirs.js';

const ROOT = packageRoot();
const PYTHON = path.join(ROOT, 'jobs-py', '.venv', 'bin', 'python');

/** A spark-submit stand-in on PATH that records its arguments and the Python it was told to use. */
function fakeSparkSubmit(exitCode: number): { bin: string; record: string } {
  const bin = path.join(tempDir('local-submit'), 'bin');
  mkdirSync(bin);
  const record = path.join(bin, 'argv.json');
  writeFileSync(
    path.join(bin, 'spark-submit'),
    `#!/usr/bin/env node
require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), python: process.env.PYSPARK_PYTHON, driverPython: process.env.PYSPARK_DRIVER_PYTHON, cwd: process.cwd() }));
process.stdout.write('{"event": "started"}\\n');
process.exit(${exitCode});
`,
  );
  chmodSync(path.join(bin, 'spark-submit'), 0o755);
  return { bin, record };
}

function env(bin: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
  for (const name of ['COATTAIL_PYTHON', 'COATTAIL_SPARK_SUBMIT', 'COATTAIL_SPARK_MASTER', 'COATTAIL_SHUFFLE_PARTITIONS']) delete e[name];
  return e;
}

describe('jobs submit --local', () => {
  it(
    'runs spark-submit (an argument array) with the local SparkConf, the bundle, the entry script and the same job arguments',
    { timeout: 60_000 },
    async () => {
      expect(existsSync(PYTHON), 'the jobs need their Python environment: run make install-py').toBe(true);
      const { bin, record } = fakeSparkSubmit(0);
      const cwd = tempDir('local-submit');
      const ctx = testContext({ cwd, env: env(bin) });
      const code = await jobsSubmit(
        {
          job: 'whale-detector',
          local: true,
          kinesisEndpoint: 'http://127.0.0.1:4568',
          dynamodbEndpoint: 'http://127.0.0.1:8000',
          set: ['threshold=250000'],
          args: ['--trigger', '1 second'],
        },
        ctx,
        { root: ROOT },
      );
      expect(code, ctx.err.text()).toBe(0);
      expect(ctx.out.text()).toBe('{"event": "started"}\n'); // the child's stdout comes through
      const seen = JSON.parse(readFileSync(record, 'utf8')) as { argv: string[]; python: string; driverPython: string; cwd: string };
      expect(seen.python).toBe(PYTHON);
      expect(seen.driverPython).toBe(PYTHON);
      const zip = seen.argv[seen.argv.indexOf('--py-files') + 1]!;
      const m = /\/\.coattail\/bundles\/([0-9a-f]{64})\/coattail_jobs\.zip$/.exec(zip);
      expect(m, zip).not.toBeNull();
      expect(zip.startsWith(cwd)).toBe(true);
      expect(createHash('sha256').update(readFileSync(zip)).digest('hex')).toBe(m![1]);
      const cached = (p: string): string => path.join(cwd, '.coattail', p);
      const kinesisOptions = '-Dorg.apache.spark.sql.kinesis.shaded.amazonaws.sdk.disableCbor=true';
      expect(seen.argv).toEqual([
        '--name',
        'coattail-whale-detector',
        '--conf',
        `spark.driver.extraJavaOptions=${kinesisOptions}`,
        '--conf',
        `spark.executor.extraJavaOptions=${kinesisOptions}`,
        // The two jars, fetched once into jobs-py/.jars (jars.py): nothing is resolved when the job starts.
        '--conf',
        `spark.jars=${['iceberg-spark-runtime-3.5_2.12-1.10.1.jar', 'spark-sql-kinesis_2.12-1.2.0_spark-3.0.jar'].map((j) => path.join(ROOT, 'jobs-py', '.jars', j)).join(',')}`,
        '--conf',
        'spark.master=local[*]',
        '--conf',
        'spark.sql.catalog.coattail=org.apache.iceberg.spark.SparkCatalog',
        '--conf',
        'spark.sql.catalog.coattail.cache-enabled=false',
        '--conf',
        'spark.sql.catalog.coattail.type=hadoop',
        '--conf',
        `spark.sql.catalog.coattail.warehouse=${cached('warehouse')}`,
        '--conf',
        'spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions',
        '--conf',
        'spark.sql.session.timeZone=UTC',
        '--conf',
        'spark.sql.shuffle.partitions=4',
        '--conf',
        'spark.ui.enabled=false',
        '--conf',
        'spark.ui.showConsoleProgress=false',
        '--py-files',
        zip,
        path.join(ROOT, 'jobs-py', 'emr_main.py'),
        'whale-detector',
        '--mode',
        'local',
        '--stream',
        'coattail-trades',
        '--region',
        'us-east-1',
        '--alerts-table',
        'coattail-alerts',
        '--checkpoint-root',
        cached('checkpoints'),
        '--raw-root',
        cached('raw'),
        '--kinesis-endpoint',
        'http://127.0.0.1:4568',
        '--dynamodb-endpoint',
        'http://127.0.0.1:8000',
        '--warehouse',
        cached('warehouse'),
        '--set',
        'threshold=250000',
        '--trigger',
        '1 second',
      ]);
      expect(seen.cwd).toBe(cwd);
    },
  );

  it('--dry-run prints the spark-submit command it would run, and runs nothing and writes nothing', { timeout: 60_000 }, async () => {
    const { bin, record } = fakeSparkSubmit(0);
    const cwd = tempDir('local-submit');
    const ctx = testContext({ cwd, env: env(bin) });
    const code = await jobsSubmit(
      {
        job: 'raw-archiver',
        local: true,
        dryRun: true,
        kinesisEndpoint: 'http://127.0.0.1:1',
        dynamodbEndpoint: 'http://127.0.0.1:2',
        // EMR-only options (e.g. from an EMR deployment's variables) are named as ignored, not refused.
        executorMemory: '8g',
        replace: true,
        conf: [],
      },
      ctx,
      { root: ROOT },
    );
    expect(code).toBe(0);
    expect(ctx.err.text()).toContain('--executor-memory, --replace: for runs on EMR Serverless; local Spark ignores them');
    const printed = JSON.parse(ctx.out.text()) as { command: string; args: string[] };
    expect(printed.command).toBe(path.join(bin, 'spark-submit'));
    const entry = printed.args.indexOf(path.join(ROOT, 'jobs-py', 'emr_main.py'));
    expect(entry).toBeGreaterThan(0);
    expect(printed.args.slice(entry + 1, entry + 2)).toEqual(['raw-archiver']);
    expect(printed.args).toContain('--py-files');
    expect(existsSync(record)).toBe(false); // spark-submit never ran
    expect(existsSync(path.join(cwd, '.coattail', 'bundles'))).toBe(false); // no bundle written
  });

  it("passes spark-submit's exit status through", { timeout: 60_000 }, async () => {
    const { bin } = fakeSparkSubmit(7);
    const ctx = testContext({ cwd: tempDir('local-submit'), env: env(bin) });
    expect(
      await jobsSubmit(
        { job: 'whale-detector', local: true, kinesisEndpoint: 'http://127.0.0.1:1', dynamodbEndpoint: 'http://127.0.0.1:2' },
        ctx,
        { root: ROOT },
      ),
    ).toBe(7);
  });

  it('asks for the local emulators when none are given and none run', async () => {
    const cwd = tempDir('local-submit');
    const err = (await jobsSubmit({ job: 'raw-archiver', local: true }, testContext({ cwd }), { root: ROOT }).catch(
      (e: unknown) => e,
    )) as CoattailError;
    expect(err).toBeInstanceOf(CoattailError);
    expect(err.line()).toBe(
      `coattail: local emulators are not running: no state in ${path.join(cwd, '.coattail/local')}. Run 'coattail local up' (or, to read a running demo's, pass --state-dir with the demo's folder, .coattail/demo by default)`,
    );
  });
});
