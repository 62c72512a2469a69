/**
 * The jars step every local Spark start goes through, with the jobs' real Python: the paths when the jars
 * are there, the jobs' own one-line reason (as a CoattailError) when they cannot be fetched.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CoattailError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { ensureSparkJars } from '../../src/spark/jars.js';
import { testContext, waitFor } from '../helpers/context.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { FakeTerminal } from '../helpers/terminal.js';

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
    ctx.logger = createLogger(ctx.err, { level: 'info' });
    const err = await ensureSparkJars(PYTHON, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    const e = err as CoattailError;
    expect(e.what).toBe('cannot fetch the Spark jar org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.1');
    expect(e.why).toMatch(new RegExp(`^${repo.replace(/[.]/g, '\\.')}: \\[Errno \\d+\\] Connection refused$`));
    expect(e.fix).toBe('Check the network or proxy (https_proxy), or set COATTAIL_MAVEN_REPO to a reachable Maven repository');
    // Off a terminal, the progress is a plain log line (the error itself is the caller's to print).
    expect(ctx.err.text()).toMatch(new RegExp(`^\\S+ info +fetching the Spark jars once \\(67 MB\\) from \\S+ into \\S+\\n$`));
    expect(ctx.err.text()).toContain(`from ${repo} into ${folder}\n`);
    expect(readdirSync(folder)).toEqual(['.lock']);
  });
});

describe('ensureSparkJars on a terminal: the first fetch as a spinner', () => {
  it("shows each jar's percentage while it comes, then ✔ ready; the jars are the repository's bytes", async () => {
    // A Maven repository on this machine serving the jars make fetched; the first jar is held at half its
    // bytes until the spinner has shown that percentage, so what the terminal saw is known, not raced.
    const source = path.join(ROOT, 'jobs-py', '.jars');
    const tty = new FakeTerminal();
    const server = createHttpServer((req, res) => {
      const file = path.join(source, path.basename(req.url ?? ''));
      if (!existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      const bytes = readFileSync(file);
      res.writeHead(200, { 'content-length': bytes.length });
      const half = Math.floor(bytes.length / 2);
      res.write(bytes.subarray(0, half));
      void waitFor(() => /\d+%/.test(tty.text()), 20_000, 'a percentage on the spinner')
        .catch(() => {})
        .finally(() => res.end(bytes.subarray(half)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const folder = path.join(tmp, 'fetched');
      const ctx = testContext({
        cwd: tmp,
        stderr: tty,
        env: { ...process.env, TERM: 'xterm', COATTAIL_JARS_DIR: folder, COATTAIL_MAVEN_REPO: `http://127.0.0.1:${port}/maven2` },
      });
      ctx.logger = createLogger(tty, { level: 'info' });
      const jars = await ensureSparkJars(PYTHON, ctx);
      expect(jars.map((j) => path.basename(j))).toEqual(
        readdirSync(source)
          .filter((f) => f.endsWith('.jar'))
          .sort(),
      );
      for (const jar of jars) expect(readFileSync(jar).equals(readFileSync(path.join(source, path.basename(jar))))).toBe(true);
      const text = tty.text();
      expect(text).toContain('fetching the Spark jars once (67 MB)');
      expect(text).toMatch(/fetching the Spark jars once \(67 MB\) from \S+ into \S+: iceberg-spark-runtime-3\.5_2\.12-1\.10\.1\.jar \d+%/);
      expect(text).toContain('✔'); // ora's success mark (coloured), then the last line
      expect(text).toMatch(/Spark jars ready in \d+ s\n$/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 60_000);
});
