/** `coattail ingest`: what it accepts. */
import { Command, Option } from 'commander';
import {
  DEFAULT_SYMBOLS,
  examples,
  exchangeRestUrlOption,
  exchangeUrlOption,
  awsTargetOptions,
  stateDirOption,
  symbolsCacheOption,
  type Action,
} from './options.js';

export function ingestCommand(parent: Command, action: Action): Command {
  const command = parent
    .command('ingest')
    .description('Exchanges → normalize → Kinesis (or --sink stdout: NDJSON unified trades on stdout)')
    .addOption(new Option('--exchanges <list>', 'comma-separated exchanges').env('COATTAIL_EXCHANGES').default('binance,coinbase'))
    .addOption(
      new Option('--symbols <list>', "comma-separated BASE-QUOTE symbols, checked against the exchanges' listings")
        .env('COATTAIL_SYMBOLS')
        .default(DEFAULT_SYMBOLS),
    )
    .addOption(
      new Option('--stream <name>', 'Kinesis stream (default: "stream" in the config file, else coattail-trades)').env('COATTAIL_STREAM'),
    )
    .addOption(new Option('--kinesis-endpoint <url>', 'Kinesis endpoint (a local emulator)').env('COATTAIL_KINESIS_ENDPOINT'))
    .addOption(new Option('--local', "use the emulators started by 'coattail local up'").env('COATTAIL_LOCAL'))
    .addOption(stateDirOption())
    .addOption(new Option('--sink <sink>', 'where trades go').choices(['kinesis', 'stdout']).env('COATTAIL_SINK').default('kinesis'))
    .addOption(exchangeUrlOption('binance'))
    .addOption(exchangeUrlOption('coinbase'))
    .addOption(exchangeRestUrlOption('binance'))
    .addOption(exchangeRestUrlOption('coinbase'))
    .addOption(
      new Option('--no-backfill', 'do not fetch the trades of confirmed gaps over REST: only count them').env('COATTAIL_NO_BACKFILL'),
    )
    .addOption(symbolsCacheOption())
    .addOption(
      new Option('--binance-time-unit <unit>', 'ask Binance for ms or us timestamps')
        .choices(['ms', 'us'])
        .env('COATTAIL_BINANCE_TIME_UNIT')
        .default('ms'),
    )
    .addOption(new Option('--max-trades <n>', 'stop cleanly after N trades (1 to 1000000000000)').env('COATTAIL_MAX_TRADES'))
    .addOption(
      new Option('--duration <duration>', 'stop cleanly after this long: 90 (seconds), 30s, 15m, 2h, 1d; 1s to 365d').env(
        'COATTAIL_DURATION',
      ),
    )
    .addOption(new Option('--aggregate', 'KPL-aggregate records that share a partition key').env('COATTAIL_AGGREGATE'))
    .addOption(
      new Option('--linger-ms <ms>', 'longest a record waits for its batch, in ms (0 to 60000)').env('COATTAIL_LINGER_MS').default('100'),
    )
    .addOption(
      new Option('--buffer-records <n>', 'records buffered before the sockets are paused (1 to 1000000)')
        .env('COATTAIL_BUFFER_RECORDS')
        .default('20000'),
    )
    .addOption(
      new Option('--stats-interval <duration>', 'periodic stats on stderr, e.g. 10s or 1m (0: off; 0.1s to 1d)')
        .env('COATTAIL_STATS_INTERVAL')
        .default('10'),
    )
    .addOption(
      new Option('--shutdown-timeout <duration>', 'how long a stop may take to flush, e.g. 20s (1s to 1h)')
        .env('COATTAIL_SHUTDOWN_TIMEOUT')
        .default('20'),
    )
    .addOption(
      new Option(
        '--undelivered-dir <dir>',
        'where trades that could not be delivered are saved (if it cannot be written: the OS temp folder)',
      )
        .env('COATTAIL_UNDELIVERED_DIR')
        .default('.coattail/undelivered'),
    )
    .addOption(new Option('--json', 'final summary as one JSON line on stderr (stdout stays data only)'))
    .addHelpText(
      'after',
      examples([
        'coattail ingest --local',
        'coattail ingest --sink stdout --symbols BTC-USDT --max-trades 100 > trades.jsonl',
        'coattail ingest --exchanges binance --symbols AR-BUSD --sink stdout   # AR/BUSD, as Binance lists it',
        'COATTAIL_KINESIS_ENDPOINT=http://127.0.0.1:4568 coattail ingest --duration 60',
        'coattail ingest --binance-url ws://127.0.0.1:9443 --coinbase-url ws://127.0.0.1:9443/coinbase --sink stdout',
        'coattail ingest --sink stdout --binance-rest-url http://127.0.0.1:9443 --coinbase-rest-url http://127.0.0.1:9443/coinbase',
        'coattail ingest --no-backfill --duration 15m',
      ]),
    )
    .action(action);
  return awsTargetOptions(command);
}
