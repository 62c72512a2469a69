/** `coattail reprocess`: what it accepts. */
import { Command, Option } from 'commander';
import { emrCommon, examples, setOption, type Action } from './options.js';

export function reprocessCommand(parent: Command, action: Action): Command {
  return emrCommon(parent.command('reprocess'))
    .description('Re-run the anomaly logic over raw_trades as of a snapshot or time (Iceberg time travel); compare with what was raised')
    .addOption(
      new Option('--as-of <snapshot-id|time>', 'a raw_trades snapshot id, or an ISO-8601 time with its zone').env('COATTAIL_AS_OF'),
    )
    .addOption(setOption('<name=value>', 'anomaly setting: threshold, min_periods (repeatable)'))
    .addOption(
      new Option('--report <file>', 'where the comparison is saved as JSON (default .coattail/reprocess/<as-of>.json)').env(
        'COATTAIL_REPROCESS_REPORT',
      ),
    )
    .addOption(new Option('--warehouse <dir>', 'local Iceberg warehouse').env('COATTAIL_WAREHOUSE'))
    .addOption(new Option('--emr', 'run reprocess-anomalies on EMR Serverless instead of local Spark'))
    .addOption(new Option('--execution-role-arn <arn>', '--emr: IAM role the job runs as').env('COATTAIL_EMR_ROLE_ARN'))
    .addOption(new Option('--bucket <name>', '--emr: S3 bucket for the bundle and logs').env('COATTAIL_BUCKET'))
    .addOption(new Option('--log-group <name>', '--emr: also send the logs to this CloudWatch Logs group').env('COATTAIL_EMR_LOG_GROUP'))
    .addOption(new Option('--venv-archive <file>', '--emr: packed virtualenv for spark.archives').env('COATTAIL_EMR_VENV_ARCHIVE'))
    .addOption(new Option('--emr-python <path>', "--emr: the image's Python when no --venv-archive").env('COATTAIL_EMR_PYTHON'))
    .addOption(new Option('--timeout-minutes <n>', '--emr: execution timeout').env('COATTAIL_EMR_TIMEOUT_MINUTES'))
    .addOption(new Option('--run-name <nonce>', '--emr: start a new run even when the same command ran before'))
    .addOption(new Option('--wait', '--emr: follow the run to its end'))
    .addOption(new Option('--cancel-on-interrupt', '--emr: with --wait, Ctrl-C cancels the run'))
    .addOption(new Option('--dry-run', '--emr: print the exact StartJobRun request and stop'))
    .addHelpText(
      'after',
      examples([
        'coattail reprocess --as-of 2024-05-01T12:00:00Z',
        'coattail reprocess --as-of 5301479425378617361 --set threshold=3.0 --json',
        'coattail reprocess --as-of 2024-05-01T12:00:00Z --emr --report s3://my-coattail/reprocess/may1.json --wait',
      ]),
    )
    .action(action);
}
