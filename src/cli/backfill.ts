/** `coattail backfill`: what it accepts. */
import { Command, Option } from 'commander';
import { emrCommon, examples, localOrEmr, exchangeRestUrlOption, symbolsCacheOption, type Action } from './options.js';

export function backfillCommand(parent: Command, action: Action): Command {
  return localOrEmr(
    emrCommon(parent.command('backfill'))
      .description("Load one symbol's trades of a time range from the exchange's REST API into Iceberg raw_trades (MERGE on event_id)")
      .addOption(new Option('--symbol <symbol>', 'BASE-QUOTE, e.g. BTC-USDT (Coinbase: its product, e.g. BTC-USD)').env('COATTAIL_SYMBOL'))
      .addOption(
        new Option('--start <time>', 'range start, inclusive: 2024-01-01 (UTC) or an ISO-8601 time with its zone').env('COATTAIL_START'),
      )
      .addOption(new Option('--end <time>', 'range end, exclusive: same forms').env('COATTAIL_END'))
      .addOption(
        new Option('--exchange <exchange>', 'whose history').choices(['binance', 'coinbase']).env('COATTAIL_EXCHANGE').default('binance'),
      )
      .addOption(exchangeRestUrlOption('binance'))
      .addOption(exchangeRestUrlOption('coinbase'))
      .addOption(symbolsCacheOption())
      .addOption(
        new Option('--binance-time-unit <unit>', 'ask Binance for ms or us timestamps (as ingest does, so loaded and live trades match)')
          .choices(['ms', 'us'])
          .env('COATTAIL_BINANCE_TIME_UNIT')
          .default('ms'),
      )
      .addOption(
        new Option('--max-weight <n>', 'Binance request weight a minute the load allows itself (25 to 6000)')
          .env('COATTAIL_BINANCE_MAX_WEIGHT')
          .default('4800'),
      ),
    'historical-loader',
  )
    .addHelpText(
      'after',
      examples([
        'coattail backfill --symbol BTC-USDT --start 2024-01-01 --end 2024-01-02',
        'coattail backfill --exchange coinbase --symbol ETH-USD --start 2024-05-01T12:00:00Z --end 2024-05-01T13:00:00Z --json',
        'coattail backfill --symbol BTC-USDT --start 2024-01-01 --end 2024-01-08 --emr --wait',
        'coattail reprocess --as-of <the snapshot the backfill printed>',
      ]),
    )
    .action(action);
}
