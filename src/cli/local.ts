/** `coattail local up | down | status | peek`: what they accept. */
import { Command, Option } from 'commander';
import { examples, stateDirOption, type Action } from './options.js';

export function localCommand(parent: Command, actions: { up: Action; down: Action; status: Action; peek: Action }): Command {
  const local = parent.command('local').description('Start, stop and inspect the local emulators (Kinesis, DynamoDB-compatible store)');
  local
    .command('up')
    .description('Start the emulators in the background, create the stream and the alert tables')
    .addOption(stateDirOption())
    .addOption(new Option('--kinesis-port <port>', 'Kinesis emulator port').env('COATTAIL_KINESIS_PORT').default('4568'))
    .addOption(new Option('--dynamodb-port <port>', 'DynamoDB-compatible store port').env('COATTAIL_DYNAMODB_PORT').default('8000'))
    .addOption(new Option('--stream <name>', 'Kinesis stream to create').env('COATTAIL_STREAM').default('coattail-trades'))
    .addOption(new Option('--shards <n>', 'shards of the stream').env('COATTAIL_SHARDS').default('2'))
    .addOption(new Option('--json', 'print the endpoints as JSON'))
    .addHelpText('after', examples(['coattail local up', 'coattail local up --json', 'COATTAIL_KINESIS_PORT=4600 coattail local up']))
    .action(actions.up);
  local
    .command('down')
    .description('Stop the emulators (fine when nothing runs)')
    .addOption(stateDirOption())
    .addHelpText('after', examples(['coattail local down']))
    .action(actions.down);
  local
    .command('status')
    .description('Show whether the emulators run, and their endpoints (exit 0 when all is ready, 3 when not)')
    .addOption(stateDirOption())
    .addOption(new Option('--json', 'machine-readable output'))
    .addHelpText('after', examples(['coattail local status', 'coattail local status --json | jq .kinesis.endpoint']))
    .action(actions.status);

  local
    .command('peek')
    .description('Show what the local Kinesis stream holds: trades per exchange and symbol, and the newest few')
    .addOption(stateDirOption())
    .addOption(new Option('--stream <name>', 'stream to read (default: the one local up created)').env('COATTAIL_STREAM'))
    .addOption(new Option('--last <n>', 'how many of the newest trades to print (0 to 10000)').default('5'))
    .addOption(new Option('--json', 'machine-readable output'))
    .addHelpText('after', examples(['coattail local peek', 'coattail local peek --last 0 --json | jq .trades']))
    .action(actions.peek);
  return local;
}
