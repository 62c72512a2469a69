/**
 * The Spark jars of local mode (Iceberg runtime, Kinesis source), fetched once before any Spark
 * application starts: `python -m coattail_jobs.jars --json` (jobs-py/coattail_jobs/jars.py) downloads
 * what is missing under a lock, checked against pinned checksums, from COATTAIL_MAVEN_REPO or Maven
 * Central. A first fetch shows as progress (a spinner with each jar's percentage on a terminal, log lines
 * elsewhere); every later start finds the files and says nothing.
 */
import { runChild } from '../core/child.js';
import type { CommandContext } from '../core/context.js';
import { CoattailError } from '../core/errors.js';
import { startTask, type Task } from '../core/progress.js';
import { JOBS_PYTHON_FIX } from './python.js';

interface JarsAnswer {
  jars?: string[];
  error?: { what: string; why: string; fix: string };
}

/** The jars' paths; throws the jobs' own one-line reason when they cannot be fetched. */
export async function ensureSparkJars(python: string, ctx: CommandContext): Promise<string[]> {
  const progress = jarsProgress(ctx);
  const { code, stdout } = await runChild(
    {
      program: python,
      args: ['-m', 'coattail_jobs.jars', '--json'],
      env: { ...ctx.env, COATTAIL_PROGRESS_LINES: '1' },
      captureStdout: true,
      what: 'fetching the Spark jars',
      cannotRunFix: JOBS_PYTHON_FIX,
      killedFix: 'run the command again',
      onStderrLine: progress.line,
    },
    ctx,
  ).finally(progress.stop);
  let answer: JarsAnswer = {};
  try {
    answer = JSON.parse(stdout.trim().split('\n').pop() ?? '') as JarsAnswer;
  } catch {
    /* no answer: reported below with the exit status */
  }
  if (code === 0 && answer.jars) return answer.jars;
  if (answer.error) throw new CoattailError(answer.error.what, answer.error.why, answer.error.fix);
  throw new CoattailError(
    'cannot fetch the Spark jars',
    `${python} -m coattail_jobs.jars exited with status ${code}`,
    'See the lines above',
  );
}

const PROGRESS_PREFIX = 'progress: ';

/**
 * jars.py's stderr as progress: its first line ("fetching the Spark jars once ...", or "waiting for another
 * process ...") starts a task, its `progress:` lines (a jar's percentage) update it, "Spark jars ready" ends it.
 */
function jarsProgress(ctx: CommandContext): { line: (line: string) => void; stop: () => void } {
  let task: Task | undefined;
  let what = '';
  return {
    line: (raw) => {
      const text = raw.replace(/^coattail: /, '');
      if (!task) {
        what = text;
        task = startTask(ctx, text);
      } else if (text.startsWith(PROGRESS_PREFIX)) task.update(`${what}: ${text.slice(PROGRESS_PREFIX.length)}`);
      else if (text.startsWith('Spark jars ready')) {
        task.succeed(text);
        task = undefined;
      } else task.line(text);
    },
    stop: () => task?.stop(),
  };
}
