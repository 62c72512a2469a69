/**
 * The checks of this machine: Node, the jobs' Python environment (src/spark/python.ts), Java 17, the Spark
 * jar cache, and the local emulators recorded by `coattail local up`.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createKinesisClient } from '../aws/kinesis.js';
import { createDynamoClient } from '../aws/dynamodb.js';
import { CoattailError } from '../core/errors.js';
import { jobsPython } from '../spark/python.js';
import { EMULATOR_LABELS, readLocalState, statePath, type EmulatorName } from '../local/state.js';
import { fail, pass, runCheck, skip, type CheckResult } from './check.js';

export interface LocalCheckOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stateDir: string;
  timeoutMs: number;
  /** The running Node's version (process.versions.node). */
  nodeVersion: string;
}

export function checkNode(version: string): CheckResult {
  const major = Number(version.split('.')[0]);
  if (major < 20) return fail('node', `Node ${version}`, 'install Node 22 or 24 (coattail needs 20 or later)');
  if (major === 20) return pass('node', `Node ${version} (Node 20 is past its end of life: move to 22 or 24)`);
  return pass('node', `Node ${version}`);
}

/** What the jobs' Python says of itself: its version, and which of the pinned jars are missing from its cache. */
const PROBE = [
  'import json, sys',
  'from coattail_jobs import jars',
  'folder = jars.jars_dir()',
  'missing = [j.file_name for j in jars.JARS if not ((folder / j.file_name).is_file() and (folder / j.file_name).stat().st_size == j.size)]',
  'print(json.dumps({"version": "%d.%d.%d" % sys.version_info[:3], "jars_dir": str(folder), "missing": missing}))',
].join('\n');

interface Probe {
  version: string;
  jars_dir: string;
  missing: string[];
}

const PYTHON_FIX = 'run make install-py (or set COATTAIL_PYTHON to a Python 3.11 with coattail_jobs installed)';

/** The Python checks: the environment with its version (3.11), then the jar cache it would use. */
export async function checkPython(o: LocalCheckOptions): Promise<CheckResult[]> {
  let python: string;
  try {
    python = jobsPython(o.env);
  } catch (err) {
    const why = err instanceof CoattailError ? `${err.what}: ${err.why}` : String(err);
    return [fail('python', why, err instanceof CoattailError ? err.fix : PYTHON_FIX), skip('jars', 'no Python environment to ask')];
  }
  let probe: Probe;
  try {
    probe = JSON.parse((await run(python, ['-c', PROBE], o.env, o.timeoutMs)).stdout.trim().split('\n').pop() ?? '') as Probe;
  } catch (err) {
    return [
      fail('python', `${python} cannot import coattail_jobs (${firstLine(err)})`, PYTHON_FIX),
      skip('jars', 'no Python environment to ask'),
    ];
  }
  const python311 = probe.version.startsWith('3.11.')
    ? pass('python', `Python ${probe.version} at ${python}`)
    : fail('python', `Python ${probe.version} at ${python}; the jobs need 3.11`, PYTHON_FIX);
  const jars =
    probe.missing.length === 0
      ? pass('jars', `Spark jars present in ${probe.jars_dir}`)
      : fail(
          'jars',
          `${probe.missing.join(', ')} missing from ${probe.jars_dir}`,
          `run ${python} -m coattail_jobs.jars (or any local Spark command fetches them), or set COATTAIL_JARS_DIR`,
        );
  return [python311, jars];
}

export async function checkJava(o: LocalCheckOptions): Promise<CheckResult> {
  const java = o.env.JAVA_HOME ? path.join(o.env.JAVA_HOME, 'bin', 'java') : 'java';
  const fix = 'install Java 17 (e.g. apt-get install openjdk-17-jre-headless) and put it on PATH or set JAVA_HOME';
  return runCheck('java', o.timeoutMs, fix, async () => {
    let text: string;
    try {
      // `java -version` writes to stderr.
      text = (await run(java, ['-version'], o.env, o.timeoutMs)).stderr;
    } catch (err) {
      return fail('java', `${java} cannot run (${firstLine(err)})`, fix);
    }
    const version = /version "([^"]+)"/.exec(text)?.[1] ?? text.split('\n')[0] ?? '';
    return version.startsWith('17')
      ? pass('java', `Java ${version}`)
      : fail('java', `Java ${version}; local Spark 3.5 needs 17`, `${fix}; with several installed, point JAVA_HOME at 17`);
  });
}

/** The emulators `coattail local up` recorded in the state folder: does each answer a call? */
export async function checkEmulators(o: LocalCheckOptions): Promise<CheckResult[]> {
  const dir = path.resolve(o.cwd, o.stateDir);
  const state = readLocalState(dir);
  const names: EmulatorName[] = ['kinesis', 'dynamodb'];
  if (!state) return names.map((n) => skip(`emulator ${n}`, `not started (no ${statePath(dir)}); 'coattail local up' starts it`));
  return Promise.all(
    names.map((name) => {
      const endpoint = state[name].endpoint;
      const check = `emulator ${name}`;
      const fix = "run 'coattail local up' (it restarts what is down), or 'coattail local status' for its log";
      return runCheck(check, o.timeoutMs, fix, async (signal) => {
        const call = { abortSignal: signal };
        if (name === 'kinesis') {
          const client = createKinesisClient({ endpoint, region: state.region, local: true, maxAttempts: 1 }, o.env);
          try {
            await client.send(new ListStreamsCommand({}), call);
          } finally {
            client.destroy();
          }
        } else {
          const client = createDynamoClient({ endpoint, region: state.region, local: true, maxAttempts: 1 }, o.env);
          try {
            await client.send(new ListTablesCommand({}), call);
          } finally {
            client.destroy();
          }
        }
        return pass(check, `${EMULATOR_LABELS[name]} answers at ${endpoint}`);
      });
    }),
  );
}

function run(program: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { env, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`));
      else resolve({ stdout, stderr });
    });
  });
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
