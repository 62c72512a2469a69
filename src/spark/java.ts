/**
 * Java for Spark, checked before any Spark application starts: `$JAVA_HOME/bin/java`, else `java` on PATH,
 * at version 17 or later (Spark 3.5 runs on 17 and 21). Missing or too old is one line saying how to get it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { CoattailError } from '../core/errors.js';

export const JAVA_FIX =
  'install Java 17 (Debian/Ubuntu: apt install openjdk-17-jre-headless; macOS: brew install openjdk@17) or set JAVA_HOME to one';

/** The major version in `java -version`'s first line: `openjdk version "17.0.15"` → 17, `"1.8.0_412"` → 8. */
export function javaMajor(versionOutput: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

/** The java that Spark will run, with its major version; throws the one line when there is none fit. */
export function requireJava(env: NodeJS.ProcessEnv): { java: string; major: number } {
  const java = env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : 'java';
  const where = env.JAVA_HOME ? `JAVA_HOME=${env.JAVA_HOME}` : 'PATH';
  const run = spawnSync(java, ['-version'], { env, encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new CoattailError('Java 17 is needed to run Spark and none was found', `no working java on ${where}`, JAVA_FIX);
  }
  const major = javaMajor(`${run.stderr}${run.stdout}`);
  if (major === undefined || major < 17) {
    const first = `${run.stderr}${run.stdout}`.split('\n')[0]?.trim() ?? '';
    throw new CoattailError('Java 17 is needed to run Spark', `the java on ${where} is ${first || 'of an unknown version'}`, JAVA_FIX);
  }
  return { java, major };
}
