/**
 * The Spark jars of local mode (Iceberg runtime, Kinesis source), fetched once before any Spark
 * application starts: `python -m coattail_jobs.jars --json` (jobs-py/coattail_jobs/jars.py) downloads
 * what is missing under a lock, checked against pinned checksums, from COATTAIL_MAVEN_REPO or Maven
 * Central. Its progress lines reach the terminal as they come; every later start finds the files.
 */
import { runChild } from '../core/child.js';
import type { CommandContext } from '../core/context.js';
import { CoattailError } from '../core/errors.js';
import { JOBS_PYTHON_FIX } from './python.js';

interface JarsAnswer {
  jars?: string[];
  error?: { what: string; why: string; fix: string };
}

/** The jars' paths; throws the jobs' own one-line reason when they cannot be fetched. */
export async function ensureSparkJars(python: string, ctx: CommandContext): Promise<string[]> {
  const { code, stdout } = await runChild(
    {
      program: python,
      args: ['-m', 'coattail_jobs.jars', '--json'],
      captureStdout: true,
      what: 'fetching the Spark jars',
      cannotRunFix: JOBS_PYTHON_FIX,
      killedFix: 'run the command again',
    },
    ctx,
  );
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
