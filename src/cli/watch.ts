/** `coattail watch`: what it accepts. */
import { Argument, Command, Option } from 'commander';
import { awsTargetOptions, examples, stateDirOption, type Action } from './options.js';

export function watchCommand(parent: Command, action: Action): Command {
  const command = parent
    .command('watch')
    .description('Live terminal view of alerts from DynamoDB, newest first (NDJSON when stdout is not a terminal, or --json)')
    .addArgument(new Argument('<what>', 'which alerts').choices(['whales', 'anomalies', 'spreads']))
    .addOption(
      new Option(
        '--min-usd <n>',
        'only alerts of at least this notional (whales) or window quote volume (anomalies); not for spreads (0 to 1000000000000)',
      ).env('COATTAIL_WATCH_MIN_USD'),
    )
    .addOption(
      new Option('--since <duration>', 'show alerts from this long ago on: 90 (seconds), 30s, 15m, 2h, 1d; 1s to 365d')
        .env('COATTAIL_WATCH_SINCE')
        .default('15m'),
    )
    .addOption(new Option('--symbols <list>', 'only these BASE-QUOTE symbols (default: all)').env('COATTAIL_WATCH_SYMBOLS'))
    .addOption(new Option('--json', 'NDJSON on stdout, one alert a line, even on a terminal'))
    .addOption(new Option('--local', "use the store started by 'coattail local up'").env('COATTAIL_LOCAL'))
    .addOption(stateDirOption())
    .addOption(new Option('--dynamodb-endpoint <url>', 'DynamoDB endpoint (a local store)').env('COATTAIL_DYNAMODB_ENDPOINT'))
    .addOption(
      new Option('--table <name>', 'alert table (default: "alertsTable" in the config file, else coattail-alerts)').env(
        'COATTAIL_ALERTS_TABLE',
      ),
    )
    .addOption(
      new Option('--interval-ms <ms>', 'poll interval while alerts arrive, in ms (50 to 3600000; waits grow to 4x when none do)')
        .env('COATTAIL_WATCH_INTERVAL_MS')
        .default('1000'),
    )
    .addHelpText(
      'after',
      examples([
        'coattail watch whales --local',
        'coattail watch whales --local --min-usd 250000 --symbols BTC-USDT,ETH-USDT --since 2h',
        'coattail watch anomalies --region eu-west-1',
        'coattail watch spreads --local --json | jq .spread_pct',
        'coattail watch whales --dynamodb-endpoint http://127.0.0.1:8000 --since 30s > whales.jsonl',
      ]),
    )
    .action(action);
  return awsTargetOptions(command);
}
