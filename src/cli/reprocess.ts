/** `coattail reprocess`: what it accepts. */
import { Command, Option } from 'commander';
import { emrCommon, examples, localOrEmr, setOption, type Action } from './options.js';

export function reprocessCommand(parent: Command, action: Action): Command {
  return localOrEmr(
    emrCommon(parent.command('reprocess'))
      .description('Re-run the anomaly logic over raw_trades as of a snapshot or time (Iceberg time travel); compare with what was raised')
      .addOption(
        new Option('--as-of <snapshot-id|time>', 'a raw_trades snapshot id, or an ISO-8601 time with its zone').env('COATTAIL_AS_OF'),
      )
      .addOption(setOption('<name=value>', 'anomaly setting: threshold, min_periods (repeatable)'))
      .addOption(
        new Option('--report <file>', 'where the comparison is saved as JSON (default .coattail/reprocess/<as-of>.json)').env(
          'COATTAIL_REPROCESS_REPORT',
        ),
      ),
    'reprocess-anomalies',
  )
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
