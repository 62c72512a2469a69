import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CoattailError } from '../../src/core/errors.js';
import { javaMajor, requireJava } from '../../src/spark/java.js';
import { chooseJobsPython, ensureJobsPython, jobsPython } from '../../src/spark/python.js';
import { jobsEnvKey } from '../../src/spark/python-env.js';
import { tempDir, testContext } from '../helpers/context.js';
import { REPO_ROOT } from '../helpers/paths.js';

const JAVA_FIX =
  'Install Java 17 (Debian/Ubuntu: apt install openjdk-17-jre-headless; macOS: brew install openjdk@17) or set JAVA_HOME to one';

/** A package folder as an install has it: jobs-py's lock, sources and script, and no .venv. */
function packageFolder(): string {
  const root = tempDir('pkg');
  const jobsPy = path.join(root, 'jobs-py');
  mkdirSync(path.join(jobsPy, 'coattail_jobs', 'jobs'), { recursive: true });
  mkdirSync(path.join(jobsPy, 'scripts'));
  for (const f of ['pyproject.toml', 'uv.lock', 'scripts/python-env.sh', 'scripts/uv-requirements.txt'])
    copyFileSync(path.join(REPO_ROOT, 'jobs-py', f), path.join(jobsPy, f));
  writeFileSync(path.join(jobsPy, 'coattail_jobs', '__init__.py'), '');
  writeFileSync(path.join(jobsPy, 'coattail_jobs', 'jobs', 'whale.py'), 'THRESHOLD = 1\n');
  return root;
}

function checkoutVenv(root: string): string {
  const python = path.join(root, 'jobs-py', '.venv', 'bin', 'python');
  mkdirSync(path.dirname(python), { recursive: true });
  writeFileSync(python, '');
  return python;
}

/** A PATH folder holding only what the environment script needs to get as far as looking for Python. */
function pathWithout(...unwanted: string[]): string {
  const bin = tempDir('bin');
  for (const tool of ['bash', 'dirname', 'mkdir']) {
    if (unwanted.includes(tool)) continue;
    symlinkSync(path.join('/usr/bin', tool), path.join(bin, tool));
  }
  return bin;
}

function fakeJava(versionLine: string): string {
  const home = tempDir('java');
  mkdirSync(path.join(home, 'bin'));
  writeFileSync(path.join(home, 'bin', 'java'), `#!/bin/sh\necho '${versionLine}' >&2\n`);
  chmodSync(path.join(home, 'bin', 'java'), 0o755);
  return home;
}

describe('which Python runs the jobs', () => {
  it('COATTAIL_PYTHON first, even beside a checkout .venv', () => {
    const root = packageFolder();
    checkoutVenv(root);
    expect(chooseJobsPython({ COATTAIL_PYTHON: '/opt/py/bin/python' }, root)).toEqual({
      source: 'COATTAIL_PYTHON',
      python: '/opt/py/bin/python',
    });
  });

  it("then the checkout's jobs-py/.venv (make install-py)", () => {
    const root = packageFolder();
    const venv = checkoutVenv(root);
    expect(chooseJobsPython({ XDG_DATA_HOME: '/data' }, root)).toEqual({ source: 'checkout', python: venv });
  });

  it('else the environment in the per-user data folder, keyed by the lock and the sources; ready once marked complete', () => {
    const root = packageFolder();
    const data = tempDir('data');
    const choice = chooseJobsPython({ XDG_DATA_HOME: data }, root);
    const dir = path.join(data, 'coattail', 'python', jobsEnvKey(root));
    expect(choice).toEqual({ source: 'data', python: path.join(dir, 'bin', 'python'), dir, ready: false });
    expect(jobsEnvKey(root)).toMatch(/^[0-9a-f]{16}$/);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '.complete'), '');
    expect(chooseJobsPython({ XDG_DATA_HOME: data }, root)).toMatchObject({ source: 'data', ready: true });
    // Without XDG_DATA_HOME: ~/.local/share.
    expect(chooseJobsPython({ HOME: '/home/op' }, root).python).toBe(
      path.join('/home/op/.local/share/coattail/python', jobsEnvKey(root), 'bin/python'),
    );
  });

  it('as it is now, for checks: the data-folder environment only once it is complete, else one line saying how it comes', () => {
    const root = packageFolder();
    const data = tempDir('data');
    const dir = path.join(data, 'coattail', 'python', jobsEnvKey(root));
    expect(() => jobsPython({ XDG_DATA_HOME: data }, () => root)).toThrow(
      `the jobs' Python environment is not created yet: no ${dir}. any command that runs the jobs creates it on first use (coattail replay, demo, reprocess, backfill), or set COATTAIL_PYTHON`,
    );
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '.complete'), '');
    expect(jobsPython({ XDG_DATA_HOME: data }, () => root)).toBe(path.join(dir, 'bin', 'python'));
    expect(jobsPython({ COATTAIL_PYTHON: '/opt/py/bin/python' }, () => root)).toBe('/opt/py/bin/python');
  });

  it("a new lock or a changed job gets a new environment; Python's caches do not", () => {
    const root = packageFolder();
    const first = jobsEnvKey(root);
    mkdirSync(path.join(root, 'jobs-py', 'coattail_jobs', '__pycache__'));
    writeFileSync(path.join(root, 'jobs-py', 'coattail_jobs', '__pycache__', 'x.pyc'), 'cache');
    expect(jobsEnvKey(root)).toBe(first);
    writeFileSync(path.join(root, 'jobs-py', 'coattail_jobs', 'jobs', 'whale.py'), 'THRESHOLD = 2\n');
    const second = jobsEnvKey(root);
    expect(second).not.toBe(first);
    writeFileSync(path.join(root, 'jobs-py', 'uv.lock'), '# another lock\n');
    expect(jobsEnvKey(root)).not.toBe(second);
  });
});

describe('the prerequisites, one line each', () => {
  it('no java on PATH and no JAVA_HOME', () => {
    const err = (() => {
      try {
        requireJava({ PATH: pathWithout() });
      } catch (e) {
        return e as CoattailError;
      }
      throw new Error('java was found');
    })();
    expect(err.line()).toBe(`coattail: Java 17 is needed to run Spark and none was found: no working java on PATH. ${JAVA_FIX}`);
  });

  it('a Java older than 17 in JAVA_HOME', () => {
    const home = fakeJava('java version "1.8.0_412"');
    expect(() => requireJava({ PATH: pathWithout(), JAVA_HOME: home })).toThrow(
      `Java 17 is needed to run Spark: the java on JAVA_HOME=${home} is java version "1.8.0_412". ${JAVA_FIX.charAt(0).toLowerCase()}${JAVA_FIX.slice(1)}`,
    );
  });

  it("Java 17 and 21 are taken; java -version's forms are read", () => {
    expect(requireJava({ PATH: pathWithout(), JAVA_HOME: fakeJava('openjdk version "17.0.15" 2025-04-15') }).major).toBe(17);
    expect(requireJava({ PATH: pathWithout(), JAVA_HOME: fakeJava('openjdk version "21" 2023-09-19') }).major).toBe(21);
    expect(javaMajor('java version "1.8.0_412"')).toBe(8);
    expect(javaMajor('openjdk version "11.0.2" 2019-01-15')).toBe(11);
    expect(javaMajor('no version here')).toBeUndefined();
  });

  it('Spark commands check Java before creating anything', async () => {
    const root = packageFolder();
    const data = tempDir('data');
    const ctx = testContext({ env: { PATH: pathWithout(), XDG_DATA_HOME: data } });
    await expect(ensureJobsPython(ctx, { root, spark: true })).rejects.toThrow('Java 17 is needed to run Spark and none was found');
    expect(existsSync(path.join(data, 'coattail'))).toBe(false);
  });

  it('no Python 3.11: the environment script says how to get one', async () => {
    const root = packageFolder();
    const data = tempDir('data');
    const ctx = testContext({ env: { PATH: pathWithout(), XDG_DATA_HOME: data } });
    const err = await ensureJobsPython(ctx, { root }).then(
      () => undefined,
      (e: unknown) => e as CoattailError,
    );
    expect(err).toBeInstanceOf(CoattailError);
    expect(err!.line()).toBe(
      'coattail: Python 3.11 is needed for the Spark jobs and none was found (no python3.11 or python3 on PATH): install it (Debian/Ubuntu: apt install python3.11 python3.11-venv; macOS: brew install python@3.11; or pyenv install 3.11) or set COATTAIL_BASE_PYTHON=/path/to/python3.11',
    );
    expect(existsSync(path.join(data, 'coattail', 'python', jobsEnvKey(root), '.complete'))).toBe(false);
  });
});
