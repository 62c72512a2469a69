/**
 * The jars step every local Spark start goes through, with the jobs' real Python: the paths when the jars
 * are there, the jobs' own one-line reason (as a CoattailError) when they cannot be fetched.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CoattailError } from '../../src/core/errors.js';
import { ensureSparkJars } from '../../src/spark/jars.js';
import { testContext } from '../helpers/context.js';
import { REPO_ROOT } from '../helpers/paths.js';

const ROOT = REPO_ROOT;
const PYTHON = path.join(ROOT, 'jobs-py', '.venv', 'bin', 'python');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'coattail-jars-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('ensureSparkJars', () => {
  it('gives the paths of the jars fetched by make (jobs-py/.jars)', async () => {
    const ctx = testContext({ cwd: tmp });
    const jars = await ensureSparkJars(PYTHON, ctx);
    expect(jars).toEqual([
      path.join(ROOT, 'jobs-py', '.jars', 'iceberg-spark-runtime-3.5_2.12-1.10.1.jar'),
      path.join(ROOT, 'jobs-py', '.jars', 'spark-sql-kinesis_2.12-1.2.0_spark-3.0.jar'),
    ]);
    expect(ctx.err.text()).toBe(''); // nothing to fetch, nothing said
  });

  it("an unreachable repository: the progress line, then the jobs' reason as one CoattailError", async () => {
    const repo = `http://127.0.0.1:${await closedPort()}/maven2`;
    const folder = path.join(tmp, 'empty');
    const ctx = testContext({ cwd: tmp, env: { ...process.env, COATTAIL_JARS_DIR: folder, COATTAIL_MAVEN_REPO: repo } });
    const err = await ensureSparkJars(PYTHON, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    const e = err as CoattailError;
    expect(e.what).toBe('cannot fetch the Spark jar org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.1');
    expect(e.why).toMatch(new RegExp(`^${repo.replace(/[.]/g, '\\.')}: \\[Errno \\d+\\] Connection refused$`));
    expect(e.fix).toBe('Check the network or proxy (https_proxy), or set COATTAIL_MAVEN_REPO to a reachable Maven repository');
    expect(ctx.err.text()).toBe(`coattail: fetching the Spark jars once (67 MB) from ${repo} into ${folder}\n`);
    expect(readdirSync(folder)).toEqual(['.lock']);
  });
});
