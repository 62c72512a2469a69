/**
 * Runs a child program (the jobs' Python, spark-submit) for a command: argument array, never a shell;
 * its stderr (and stdout, unless captured) passed through as it comes; the command's abort signal stops
 * it with SIGTERM. Resolves with its exit status (130 when stopped that way).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { CommandContext } from './context.js';
import { CoattailError, errorMessage } from './errors.js';

export interface ChildRun {
  program: string;
  args: readonly string[];
  /** Default: the command's environment. */
  env?: NodeJS.ProcessEnv;
  /** Keep stdout (a JSON result) instead of passing it through. */
  captureStdout?: boolean;
  /** What to do when the program cannot be started. */
  cannotRunFix: string;
  /** What the run is, for the error when a signal kills it ("the replay"). */
  what: string;
  /** What to do when that happens. */
  killedFix: string;
  /** Each line of its stderr goes here instead of straight through (a progress spinner shows it above itself). */
  onStderrLine?: (line: string) => void;
}

export function runChild(run: ChildRun, ctx: CommandContext): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(run.program, [...run.args], { cwd: ctx.cwd, env: run.env ?? ctx.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    if (run.captureStdout) child.stdout.on('data', (b: Buffer) => out.push(b));
    else child.stdout.pipe(ctx.stdout, { end: false });
    const onLine = run.onStderrLine;
    if (onLine) createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (l) => onLine(l));
    else child.stderr.pipe(ctx.stderr, { end: false });
    const stop = (): void => {
      child.kill('SIGTERM');
    };
    ctx.signal.addEventListener('abort', stop, { once: true });
    child.once('error', (err) => {
      ctx.signal.removeEventListener('abort', stop);
      reject(new CoattailError(`cannot run ${run.program}`, errorMessage(err), run.cannotRunFix));
    });
    child.once('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', stop);
      const stdout = Buffer.concat(out).toString('utf8');
      if (code !== null) resolve({ code, stdout });
      else if (ctx.signal.aborted) resolve({ code: 130, stdout });
      else reject(new CoattailError(`${run.what} was killed`, `it got ${signal ?? 'a signal'}`, run.killedFix));
    });
  });
}
