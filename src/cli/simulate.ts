/** `coattail simulate`: what it accepts. */
import { Command, Option } from 'commander';
import { examples, type Action } from './options.js';

export function simulateCommand(parent: Command, action: Action): Command {
  return parent
    .command('simulate')
    .description('Local market simulator speaking the Binance and Coinbase WebSocket protocols on one port')
    .addOption(new Option('--port <port>', 'port to listen on').env('COATTAIL_SIM_PORT').default('9443'))
    .addOption(new Option('--host <host>', 'address to listen on').env('COATTAIL_SIM_HOST').default('127.0.0.1'))
    .addOption(
      new Option('--scenario <name|file>', 'built-in scenario name or a scenario JSON file')
        .env('COATTAIL_SIM_SCENARIO')
        .default('default'),
    )
    .addOption(new Option('--seed <n>', 'random seed (overrides the scenario)').env('COATTAIL_SIM_SEED'))
    .addOption(new Option('--rate <trades-per-second>', 'trade rate (overrides the scenario)').env('COATTAIL_SIM_RATE'))
    .addOption(new Option('--record <file>', 'write every trade the simulator prints as NDJSON'))
    .addOption(new Option('--list', 'list the built-in scenarios and exit'))
    .addOption(new Option('--json', 'print the endpoints as JSON on stdout'))
    .addHelpText(
      'after',
      examples([
        'coattail simulate',
        'coattail simulate --scenario whales --seed 7',
        'coattail simulate --scenario ./my-scenario.json --port 9500 --record sim-trades.jsonl',
        'coattail ingest --binance-url ws://127.0.0.1:9443 --coinbase-url ws://127.0.0.1:9443/coinbase --sink stdout',
      ]),
    )
    .action(action);
}
