/** `coattail jobs submit | list | status | logs | cancel | pack-env`: what they accept. */
import { Command, Option } from 'commander';
import { emrCommon, examples, setOption, stateDirOption, type Action } from './options.js';

export function jobsCommand(
  parent: Command,
  actions: { submit: Action; list: Action; status: Action; logs: Action; cancel: Action; packEnv: Action },
): Command {
  const jobs = parent
    .command('jobs')
    .description('Run the Spark jobs on EMR Serverless (or --local), follow and stop their runs')
    .addHelpText(
      'after',
      examples([
        'coattail jobs submit whale-detector --wait',
        'coattail jobs list --state RUNNING',
        'coattail jobs logs 00fabc123 --follow',
      ]),
    );
  emrCommon(jobs.command('submit'))
    .description('Bundle jobs-py, upload it (content-addressed), start a job run; streaming jobs run in STREAMING mode')
    .argument(
      '<job>',
      'raw-archiver, volume-anomaly, whale-detector, spread-calculator, historical-loader, reprocess-anomalies, schema-evolution-demo',
    )
    .argument('[args...]', "the job's own arguments, after --")
    .addOption(new Option('--execution-role-arn <arn>', 'IAM role the job runs as').env('COATTAIL_EMR_ROLE_ARN'))
    .addOption(new Option('--bucket <name>', 'S3 bucket for bundles, checkpoints, raw zone and logs').env('COATTAIL_BUCKET'))
    .addOption(new Option('--stream <name>', 'Kinesis stream the streaming jobs read').env('COATTAIL_STREAM'))
    .addOption(new Option('--alerts-table <name>', 'DynamoDB alert table').env('COATTAIL_ALERTS_TABLE'))
    .addOption(new Option('--log-group <name>', 'also send the logs to this CloudWatch Logs group').env('COATTAIL_EMR_LOG_GROUP'))
    .addOption(setOption('<name=value>', 'job setting passed through (repeatable)'))
    .addOption(new Option('--run-name <nonce>', 'start a new run even when the same command ran before'))
    .addOption(
      new Option('--venv-archive <file>', 'the packages for spark.archives (coattail jobs pack-env makes it)').env(
        'COATTAIL_EMR_VENV_ARCHIVE',
      ),
    )
    .addOption(new Option('--emr-python <path>', "the image's Python when no --venv-archive").env('COATTAIL_EMR_PYTHON'))
    .addOption(
      new Option('--retries-per-hour <n>', 'streaming: failed attempts an hour before giving up (1-10)').env(
        'COATTAIL_EMR_RETRIES_PER_HOUR',
      ),
    )
    .addOption(new Option('--timeout-minutes <n>', 'batch: execution timeout').env('COATTAIL_EMR_TIMEOUT_MINUTES'))
    .addOption(
      new Option('--conf <key=value>', 'a Spark property for the run, into sparkSubmitParameters (repeatable)')
        .env('COATTAIL_EMR_CONF')
        // Values hold no spaces (sparkSubmitParameters is one string), so the variable takes several, space-separated.
        .argParser((v: string, prev: string[]) => [...prev, ...v.split(/\s+/).filter((s) => s.length > 0)])
        .default([]),
    )
    .addOption(new Option('--driver-cores <n>', "the driver's vCPUs: 1, 2, 4, 8 or 16").env('COATTAIL_EMR_DRIVER_CORES'))
    .addOption(new Option('--driver-memory <size>', "the driver's memory, e.g. 14g or 7168m").env('COATTAIL_EMR_DRIVER_MEMORY'))
    .addOption(new Option('--executor-cores <n>', "each executor's vCPUs: 1, 2, 4, 8 or 16").env('COATTAIL_EMR_EXECUTOR_CORES'))
    .addOption(new Option('--executor-memory <size>', "each executor's memory, e.g. 14g or 7168m").env('COATTAIL_EMR_EXECUTOR_MEMORY'))
    .addOption(new Option('--executors <n>', 'executors to start with (spark.executor.instances)').env('COATTAIL_EMR_EXECUTORS'))
    .addOption(
      new Option('--max-executors <n>', 'at most this many executors (spark.dynamicAllocation.maxExecutors)').env(
        'COATTAIL_EMR_MAX_EXECUTORS',
      ),
    )
    .addOption(new Option('--replace', "streaming: cancel the job's running run, wait until it has ended, then start this one"))
    .addOption(
      new Option('--replace-timeout-minutes <n>', '--replace: how long to wait for the old run to end').env(
        'COATTAIL_EMR_REPLACE_TIMEOUT_MINUTES',
      ),
    )
    .addOption(new Option('--wait', 'follow the run to its end (exit 0 SUCCESS, 1 FAILED, 3 CANCELLED, 130 Ctrl-C)').env('COATTAIL_WAIT'))
    .addOption(
      new Option('--cancel-on-interrupt', 'with --wait: Ctrl-C cancels the run instead of leaving it running').env(
        'COATTAIL_CANCEL_ON_INTERRUPT',
      ),
    )
    .addOption(new Option('--dry-run', 'print the exact StartJobRun request (with --local: the spark-submit command) and stop'))
    .addOption(new Option('--local', 'run the job with spark-submit on local Spark and the local emulators').env('COATTAIL_LOCAL'))
    .addOption(stateDirOption("--local: where 'coattail local up' keeps its state", false))
    .addOption(new Option('--kinesis-endpoint <url>', '--local: Kinesis emulator').env('COATTAIL_KINESIS_ENDPOINT'))
    .addOption(new Option('--dynamodb-endpoint <url>', '--local: DynamoDB-compatible store').env('COATTAIL_DYNAMODB_ENDPOINT'))
    .addOption(new Option('--warehouse <dir>', '--local: Iceberg warehouse folder').env('COATTAIL_WAREHOUSE'))
    .addOption(new Option('--spark-submit <path>', '--local: spark-submit to use').env('COATTAIL_SPARK_SUBMIT'))
    .addHelpText(
      'after',
      examples([
        'coattail jobs submit whale-detector --application-id 00fabc123 --execution-role-arn arn:aws:iam::123456789012:role/coattail-emr --bucket my-coattail --region eu-west-1 --save-config',
        'coattail jobs submit volume-anomaly --set threshold=3.0 --wait',
        'coattail jobs submit historical-loader -- --symbol BTC-USDT --start 2024-01-01 --end 2024-01-02',
        'coattail jobs submit whale-detector --dry-run | jq .configurationOverrides',
        'coattail jobs submit volume-anomaly --executor-cores 2 --executor-memory 12g --conf spark.sql.shuffle.partitions=32',
        'coattail jobs submit whale-detector --replace --wait',
        'coattail jobs submit whale-detector --local',
      ]),
    )
    .action(actions.submit);
  emrCommon(jobs.command('list'))
    .description('Job runs of the application, newest first')
    .addOption(new Option('--state <states>', 'only runs in these states, comma-separated (RUNNING,FAILED,...)'))
    .addOption(new Option('--job <name>', 'only runs of this job'))
    .addOption(new Option('--limit <n>', 'at most this many runs').default('20'))
    .addHelpText(
      'after',
      examples([
        'coattail jobs list',
        'coattail jobs list --state RUNNING --job whale-detector',
        'coattail jobs list --json | jq .[].state',
      ]),
    )
    .action(actions.list);
  emrCommon(jobs.command('status'))
    .description('One job run: state, details, attempt, times, log location')
    .argument('<run-id>', 'job run id')
    .addHelpText('after', examples(['coattail jobs status 00fabc123def', 'coattail jobs status 00fabc123def --json | jq .state']))
    .action(actions.status);
  emrCommon(jobs.command('logs'), false)
    .description("The driver's stdout and stderr from S3 (--follow while the run runs)")
    .argument('<run-id>', 'job run id')
    .addOption(new Option('--log <which>', 'stdout, stderr or both').default('both'))
    .addOption(new Option('--follow', 'keep printing new lines until the run ends'))
    .addOption(new Option('--tail <n>', 'only the last N lines (of what is there at first)'))
    .addHelpText('after', examples(['coattail jobs logs 00fabc123def --log stderr --tail 100', 'coattail jobs logs 00fabc123def --follow']))
    .action(actions.logs);
  emrCommon(jobs.command('cancel'))
    .description('Cancel a job run and wait until it has ended')
    .argument('<run-id>', 'job run id')
    .addOption(new Option('--no-wait', 'return once the cancellation is requested'))
    .addHelpText('after', examples(['coattail jobs cancel 00fabc123def', 'coattail jobs cancel 00fabc123def --no-wait']))
    .action(actions.cancel);

  jobs
    .command('pack-env')
    .description("Pack the jobs' packages (pandas, pyarrow, boto3; pinned) for EMR Serverless: the archive for submit --venv-archive")
    .addOption(
      // The same variable as submit's --venv-archive: pack-env writes the file that submit then uploads.
      new Option('--out <file>', 'the archive to write, e.g. venv.tar.gz').env('COATTAIL_EMR_VENV_ARCHIVE').makeOptionMandatory(),
    )
    .addOption(
      new Option('--arch <arch>', "the EMR application's architecture")
        .choices(['x86_64', 'aarch64'])
        .default('x86_64')
        .env('COATTAIL_EMR_ARCH'),
    )
    .addOption(new Option('--interpreter <path>', "the image's Python 3.11 (default /usr/bin/python3.11)").env('COATTAIL_EMR_PYTHON'))
    .addHelpText(
      'after',
      examples(['coattail jobs pack-env --out venv.tar.gz', 'coattail jobs submit volume-anomaly --venv-archive venv.tar.gz']),
    )
    .action(actions.packEnv);
  return jobs;
}
