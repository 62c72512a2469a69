/**
 * The jobs' Python environment of an installed coattail, created on first use in the per-user data folder:
 * `<data>/python/<key>`, the key a hash of the lock and the jobs' sources, so a new version gets a new
 * environment and two versions coexist. jobs-py/scripts/python-env.sh builds it (`install`), the same
 * script and lock as a checkout's jobs-py/.venv, under a lock, from a copy of the sources, and marks it
 * complete last: nothing is written inside the package folder (it may be read-only) and a half-built
 * environment is never used.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from '../core/context.js';
import { userDataDir } from '../core/dirs.js';
import { CoattailError, errorMessage } from '../core/errors.js';
import { startTask } from '../core/progress.js';

const COMPLETE = '.complete';

/** The folder of the data-folder environments (with the pinned uv, the build log and the lock). */
export function pythonEnvsDir(env: NodeJS.ProcessEnv): string {
  return path.join(userDataDir(env), 'python');
}

/** What the environment is made of: pyproject.toml, uv.lock and every .py of coattail_jobs, by name and content. */
export function jobsEnvKey(root: string): string {
  const jobsPy = path.join(root, 'jobs-py');
  const files = ['pyproject.toml', 'uv.lock', ...pythonSources(jobsPy, 'coattail_jobs')];
  const hash = createHash('sha256');
  for (const name of files)
    hash
      .update(`${name}\0`)
      .update(readFileSync(path.join(jobsPy, name)))
      .update('\0');
  return hash.digest('hex').slice(0, 16);
}

function pythonSources(base: string, dir: string): string[] {
  return readdirSync(path.join(base, dir), { withFileTypes: true })
    .flatMap((e) => {
      const name = `${dir}/${e.name}`;
      if (e.isDirectory()) return e.name === '__pycache__' ? [] : pythonSources(base, name);
      return e.name.endsWith('.py') ? [name] : [];
    })
    .sort();
}

/** The data-folder environment for the package at `root` (whether or not it exists yet). */
export function dataEnvDir(env: NodeJS.ProcessEnv, root: string): string {
  return path.join(pythonEnvsDir(env), jobsEnvKey(root));
}

export function dataEnvReady(dir: string): boolean {
  return existsSync(path.join(dir, COMPLETE));
}

/** Creates the environment in `dir` (python-env.sh install), with progress; its one-line reason when it cannot. */
export async function createDataEnv(dir: string, root: string, ctx: CommandContext): Promise<void> {
  const state = pythonEnvsDir(ctx.env);
  const task = startTask(ctx, `creating the jobs' Python environment (first use, about 600 MB) in ${dir}…`);
  const script = path.join(root, 'jobs-py', 'scripts', 'python-env.sh');
  const { code, lines } = await runScript(script, dir, { ...ctx.env, COATTAIL_PYENV_STATE: state }, ctx, (l) => task.line(l));
  if (code === 0 && dataEnvReady(dir)) {
    task.succeed(`the jobs' Python environment is ready (${dir})`);
    return;
  }
  task.stop();
  const said = lines.filter((l) => l.startsWith('coattail: ')).pop();
  if (said) throw new ScriptError(said);
  throw new CoattailError(
    "cannot create the jobs' Python environment",
    `${script} exited with status ${code}`,
    `see ${path.join(state, 'python-env.log')}`,
  );
}

/** python-env.sh's own one line (what is missing and how to get it), passed on as it is. */
export class ScriptError extends CoattailError {
  constructor(private readonly said: string) {
    super("cannot create the jobs' Python environment", said.slice('coattail: '.length), 'see the line above');
  }

  override line(): string {
    return this.said;
  }
}

/** Runs the script; its stderr lines are kept, and "waiting for…" lines shown as they come. */
function runScript(
  script: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  ctx: CommandContext,
  show: (line: string) => void,
): Promise<{ code: number; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, 'install', dir], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const lines: string[] = [];
    let partial = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) {
        lines.push(l);
        if (l.includes('waiting for another')) show(l.replace(/^coattail: /, ''));
      }
    });
    const stop = (): void => void child.kill('SIGTERM');
    ctx.signal.addEventListener('abort', stop, { once: true });
    child.once('error', (err) => {
      ctx.signal.removeEventListener('abort', stop);
      reject(new CoattailError('cannot run bash', errorMessage(err), "install bash: it builds the jobs' Python environment"));
    });
    child.once('close', (code) => {
      ctx.signal.removeEventListener('abort', stop);
      if (partial) lines.push(partial);
      resolve({ code: code ?? 130, lines });
    });
  });
}
