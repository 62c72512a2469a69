/** `coattail tail`: what it accepts. */
import { Command, Option } from 'commander';
import { awsTargetOptions, examples, stateDirOption, type Action } from './options.js';

export function tailCommand(parent: Command, action: Action): Command {
  const command = parent
    .command('tail')
    .description(
      'Read the trade stream: every shard (splits and merges followed), KPL aggregates unpacked, unified trades as NDJSON on stdout (a table on a terminal)',
    )
    .addOption(
      new Option(
        '--stream <name>',
        "Kinesis stream (default: the config file's, else coattail-trades; with --local, the one 'coattail local up' created)",
      ).env('COATTAIL_STREAM'),
    )
    .addOption(
      new Option(
        '--from <position>',
        'where to start: latest, trim-horizon (the oldest record kept), an ISO time with its zone (2026-01-15T09:30:00Z; a bare date is midnight UTC), or a look-back like 15m',
      )
        .env('COATTAIL_TAIL_FROM')
        .default('latest'),
    )
    .addOption(new Option('--symbols <list>', 'only these BASE-QUOTE symbols (default: all)').env('COATTAIL_TAIL_SYMBOLS'))
    .addOption(
      new Option('--min-usd <n>', 'only trades of at least this quote value, price × quantity (0 to 1000000000000)').env(
        'COATTAIL_TAIL_MIN_USD',
      ),
    )
    .addOption(new Option('--max <n>', 'stop after printing N trades (1 to 1000000000000)').env('COATTAIL_TAIL_MAX'))
    .addOption(new Option('--exit-at-end', 'stop once every shard has been read up to its newest record').env('COATTAIL_TAIL_EXIT_AT_END'))
    .addOption(new Option('--json', 'NDJSON on stdout even on a terminal, and the summary as one JSON line on stderr'))
    .addOption(new Option('--local', "read the stream of the emulator started by 'coattail local up'").env('COATTAIL_LOCAL'))
    .addOption(stateDirOption())
    .addOption(
      new Option('--kinesis-endpoint <url>', 'Kinesis endpoint (a local emulator, a VPC endpoint)').env('COATTAIL_KINESIS_ENDPOINT'),
    )
    .addHelpText(
      'after',
      examples([
        'coattail tail --local',
        'coattail tail --local --from trim-horizon --max 100 > trades.jsonl',
        'coattail tail --region eu-west-1 --symbols BTC-USDT,ETH-USDT --min-usd 100000',
        'coattail tail --from 2026-01-15T09:30:00Z --exit-at-end --json | jq -r .event_id',
        'coattail tail --from 15m --profile prod --stream coattail-trades-prod',
        'coattail tail --local --state-dir .coattail/demo   # the stream of a running demo',
      ]),
    )
    .action(action);
  return awsTargetOptions(command);
}
