/** `coattail replay`: what it accepts. */
import { Command, Option } from 'commander';
import { examples, setOption, type Action } from './options.js';

export function replayCommand(parent: Command, action: Action): Command {
  return parent
    .command('replay')
    .description("Run one job's streaming logic over recorded trades (backtest); outputs as NDJSON files")
    .argument('<job>', 'raw-archiver, volume-anomaly, whale-detector or spread-calculator')
    .addOption(new Option('--input <file>', 'recorded unified trades (NDJSON)').env('COATTAIL_REPLAY_INPUT'))
    .addOption(new Option('--out <dir>', "folder for the output files (created; the job's files replaced)").env('COATTAIL_REPLAY_OUT'))
    .addOption(setOption('<name=value>', 'override a setting (repeatable): threshold, min_periods, watermark, symbols, trigger'))
    .addOption(new Option('--json', 'summary as one JSON object on stdout'))
    .addHelpText(
      'after',
      examples([
        'coattail replay whale-detector --input trades.jsonl --out backtest --set threshold=250000',
        'coattail replay volume-anomaly --input day.jsonl --out va --set threshold=3.0 --json',
      ]),
    )
    .action(action);
}
