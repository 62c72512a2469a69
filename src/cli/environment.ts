/**
 * The environment, seen from the command line: the variables that have no flag (listed in the root help and
 * the README), and the options that deliberately have no variable, with why. Every other option reads a
 * `COATTAIL_*` (or AWS) variable through commander's `.env()`; a test walks the command tree to keep it so.
 */
import type { Command } from 'commander';

export interface EnvironmentVariable {
  name: string;
  what: string;
}

/** Read from the environment only: process-wide settings, endpoints, and what the AWS SDK and terminals read. */
export const ENVIRONMENT_ONLY: readonly EnvironmentVariable[] = [
  { name: 'COATTAIL_LOG_LEVEL', what: 'debug, info, warn or error (-v and -q win)' },
  { name: 'COATTAIL_LOG_FORMAT', what: 'json for JSON log lines on stderr (default text)' },
  { name: 'COATTAIL_PYTHON', what: "the jobs' Python 3.11 (default: a checkout's jobs-py/.venv, else the per-user one)" },
  { name: 'COATTAIL_BASE_PYTHON', what: "the Python 3.11 the jobs' environment is made from (default python3.11, python3)" },
  { name: 'JAVA_HOME', what: 'the Java 17 (or later) local Spark runs on (default java on PATH)' },
  { name: 'COATTAIL_JARS_DIR', what: 'where the Spark jars are cached' },
  { name: 'COATTAIL_MAVEN_REPO', what: 'the Maven repository the jars come from (default Maven Central)' },
  { name: 'COATTAIL_SPARK_MASTER', what: 'local Spark master (default local[*])' },
  { name: 'COATTAIL_SHUFFLE_PARTITIONS', what: "local Spark's spark.sql.shuffle.partitions" },
  { name: 'XDG_DATA_HOME', what: "per-user data: the jobs' environment and jars of an installed coattail (default ~/.local/share)" },
  { name: 'XDG_CONFIG_HOME', what: 'the per-user coattail.config.json lives in its coattail/ (default ~/.config)' },
  { name: 'COATTAIL_EMR_ENDPOINT', what: 'EMR Serverless endpoint (a VPC endpoint)' },
  { name: 'COATTAIL_S3_ENDPOINT', what: 'S3 endpoint' },
  { name: 'COATTAIL_ATHENA_ENDPOINT', what: 'Athena endpoint' },
  { name: 'COATTAIL_STS_ENDPOINT', what: "STS endpoint (doctor's credentials check)" },
  { name: 'AWS_ENDPOINT_URL_<SERVICE>', what: "the AWS SDKs' service endpoint (KINESIS, DYNAMODB, S3, EMR_SERVERLESS, ATHENA, STS)" },
  { name: 'AWS_ENDPOINT_URL', what: "the AWS SDKs' endpoint for every service (after the COATTAIL_ and service variables)" },
  { name: 'AWS_DEFAULT_REGION', what: 'the region after --region/AWS_REGION' },
  { name: 'AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE', what: 'where the AWS profiles are (default ~/.aws/config, ~/.aws/credentials)' },
  { name: 'NO_COLOR, FORCE_COLOR', what: 'colour off (any value) or on' },
];

/**
 * Options with no variable, by long flag, and why: each is an action or a question for one invocation, so a
 * variable left set in a shell would silently change what the next command does or prints.
 */
export const FLAG_ONLY: Readonly<Record<string, string>> = {
  '--help': 'not a setting',
  '--version': 'not a setting',
  '--verbose': 'COATTAIL_LOG_LEVEL=debug is its variable',
  '--quiet': 'COATTAIL_LOG_LEVEL=warn is its variable',
  '--json': "stdout's shape is chosen by whoever reads it, per command: a variable would change what a pipe parses",
  '--dry-run': 'a forgotten variable would turn every real run into a rehearsal',
  '--save-config': 'writes the config file once; a variable would rewrite it on every command',
  '--replace': 'cancels a running job: never implied by the environment',
  '--run-name': 'a one-time nonce for a deliberate re-run; a fixed one defeats its purpose',
  '--fresh': 'deletes the demo data: never implied by the environment',
  '--list': 'an action (list the scenarios), not a setting',
  '--record': 'where this run records; a variable would overwrite one file on every run',
  '--set': 'job settings of one run; a deployment keeps its own in the config file',
  '--no-wait': 'a question for one cancel',
  '--state': 'a filter for one listing',
  '--job': 'a filter for one listing',
  '--limit': 'a filter for one listing',
  '--log': 'which log of one run to print',
  '--tail': 'how much of one log to print',
  '--follow': 'a question for one invocation',
  '--last': 'how much of one stream to print',
};

/** Flag-only options not worth a mark: not settings, or with a variable of another form (COATTAIL_LOG_LEVEL). */
const NOT_MARKED = new Set(['--help', '--version', '--verbose', '--quiet']);

/** The `Environment:` section of the root help. */
export function environmentHelp(): string {
  const width = Math.max(...ENVIRONMENT_ONLY.map((v) => v.name.length));
  const vars = ENVIRONMENT_ONLY.map((v) => `  ${v.name.padEnd(width)}  ${v.what}`).join('\n');
  const flagOnly = Object.keys(FLAG_ONLY)
    .filter((f) => !NOT_MARKED.has(f))
    .join(', ');
  return (
    `\nEnvironment (no flag):\n${vars}\n` +
    '\nEvery option also reads the variable its help shows; flags win. Flag only, never from the\n' +
    `environment (actions and questions for one invocation; the README says why):\n  ${flagOnly}\n`
  );
}

/** Marks the flag-only options in every command's help, wherever they are declared. */
export function markFlagOnly(command: Command): void {
  for (const option of command.options) {
    const long = option.long ?? '';
    if (!option.envVar && FLAG_ONLY[long] && !NOT_MARKED.has(long) && !option.description.endsWith('(flag only)'))
      option.description = `${option.description} (flag only)`;
  }
  for (const sub of command.commands) markFlagOnly(sub);
}
