/** What several commands accept, defined once: the shared options, and how examples are shown. */
import { Command, Option } from 'commander';
import { EXCHANGE_REGISTRY, type Exchange } from '../exchanges/registry.js';
import { DEFAULT_SYMBOLS_CACHE_DIR } from '../symbols/cache.js';

/** What runs when a command is chosen: commander calls it with the arguments, then the options. */
export type Action = Parameters<Command['action']>[0];

export const DEFAULT_SYMBOLS = 'BTC-USDT,ETH-USDT,SOL-USDT';
export const DEFAULT_STATE_DIR = '.coattail/local';

export function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/** `--state-dir`: where `coattail local up` keeps its state (the emulators' endpoints, pids, data). */
export function stateDirOption(help = 'where local state lives', withDefault = true): Option {
  const option = new Option('--state-dir <dir>', help).env('COATTAIL_STATE_DIR');
  return withDefault ? option.default(DEFAULT_STATE_DIR) : option;
}

/** A repeatable `--set`: every occurrence is kept, in order. */
export function setOption(valueName: string, help: string): Option {
  return new Option(`--set ${valueName}`, help).argParser((v: string, prev: string[]) => [...prev, v]).default([]);
}

/** `--<exchange>-url`: the exchange's WebSocket URL, by default its public one (src/exchanges/registry.ts). */
export function exchangeUrlOption(exchange: Exchange): Option {
  const e = EXCHANGE_REGISTRY[exchange];
  return new Option(`--${exchange}-url <url>`, `${e.displayName} WebSocket URL`)
    .env(`COATTAIL_${exchange.toUpperCase()}_URL`)
    .default(e.wsUrl);
}

/** `--<exchange>-rest-url`: the exchange's REST base URL (its listing, trade history), by default its public one. */
export function exchangeRestUrlOption(exchange: Exchange): Option {
  const e = EXCHANGE_REGISTRY[exchange];
  return new Option(`--${exchange}-rest-url <url>`, `${e.displayName} REST base URL`)
    .env(`COATTAIL_${exchange.toUpperCase()}_REST_URL`)
    .default(e.restUrl);
}

/** `--symbols-cache`: where the exchanges' listings are kept for a start without the network. */
export function symbolsCacheOption(): Option {
  return new Option('--symbols-cache <dir>', "where the exchanges' symbol listings are cached")
    .env('COATTAIL_SYMBOLS_CACHE')
    .default(DEFAULT_SYMBOLS_CACHE_DIR);
}

/**
 * Where an AWS-facing command acts (src/aws/target.ts): the region, the profile, the config file and its
 * environment. The region is the first of --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's, the file's.
 */
export function awsTargetOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--region <region>', 'AWS region (else AWS_DEFAULT_REGION, the profile\'s region, "region" in the config file)').env(
        'AWS_REGION',
      ),
    )
    .addOption(new Option('--profile <name>', 'AWS profile to sign with, and whose region to use (~/.aws/config)').env('AWS_PROFILE'))
    .addOption(
      new Option('--config <file>', 'config file (default: the nearest coattail.config.json upwards, then ~/.config/coattail/)').env(
        'COATTAIL_CONFIG',
      ),
    )
    .addOption(new Option('--env <name>', 'the config file\'s environment to use ("environments": {"<name>": {...}})').env('COATTAIL_ENV'));
}

/** What every AWS-facing command takes: where it acts, `--save-config`, and (unless `json` is false) `--json`. */
export function awsCommon(cmd: Command, json = true): Command {
  awsTargetOptions(cmd).addOption(
    new Option('--save-config', "remember the settings given in the config file (in --env's environment, if given)"),
  );
  return json ? cmd.addOption(new Option('--json', 'machine-readable output on stdout')) : cmd;
}

/** What every EMR Serverless command takes: the AWS options and the application. */
export function emrCommon(cmd: Command, json = true): Command {
  return awsCommon(cmd, json).addOption(
    new Option('--application-id <id>', 'EMR Serverless application').env('COATTAIL_EMR_APPLICATION_ID'),
  );
}

/** What a batch job's command takes to run in local Spark (its warehouse) or, with `--emr`, as an EMR Serverless job run. */
export function localOrEmr(cmd: Command, job: string): Command {
  return cmd
    .addOption(new Option('--warehouse <dir>', 'local Iceberg warehouse').env('COATTAIL_WAREHOUSE'))
    .addOption(new Option('--emr', `run ${job} on EMR Serverless instead of local Spark`).env('COATTAIL_EMR'))
    .addOption(new Option('--execution-role-arn <arn>', '--emr: IAM role the job runs as').env('COATTAIL_EMR_ROLE_ARN'))
    .addOption(new Option('--bucket <name>', '--emr: S3 bucket for the bundle and logs').env('COATTAIL_BUCKET'))
    .addOption(new Option('--log-group <name>', '--emr: also send the logs to this CloudWatch Logs group').env('COATTAIL_EMR_LOG_GROUP'))
    .addOption(new Option('--venv-archive <file>', '--emr: packed virtualenv for spark.archives').env('COATTAIL_EMR_VENV_ARCHIVE'))
    .addOption(new Option('--emr-python <path>', "--emr: the image's Python when no --venv-archive").env('COATTAIL_EMR_PYTHON'))
    .addOption(new Option('--timeout-minutes <n>', '--emr: execution timeout').env('COATTAIL_EMR_TIMEOUT_MINUTES'))
    .addOption(new Option('--run-name <nonce>', '--emr: start a new run even when the same command ran before'))
    .addOption(new Option('--wait', '--emr: follow the run to its end').env('COATTAIL_WAIT'))
    .addOption(new Option('--cancel-on-interrupt', '--emr: with --wait, Ctrl-C cancels the run').env('COATTAIL_CANCEL_ON_INTERRUPT'))
    .addOption(new Option('--dry-run', '--emr: print the exact StartJobRun request and stop'));
}

/**
 * For a `preSubcommand` hook: an option the command and its subcommand both declare is parsed by the
 * command wherever it stands after the command's name; given on the command line, it is the subcommand's too.
 */
export function passSharedOptions(command: Command, subcommand: Command): void {
  for (const option of subcommand.options) {
    const key = option.attributeName();
    if (command.getOptionValueSource(key) === 'cli') subcommand.setOptionValueWithSource(key, command.getOptionValue(key), 'cli');
  }
}
