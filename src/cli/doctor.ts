/** `coattail doctor`: what it accepts. */
import { Command, Option } from 'commander';
import { awsTargetOptions, examples, stateDirOption, type Action } from './options.js';

export function doctorCommand(parent: Command, action: Action): Command {
  return awsTargetOptions(
    parent
      .command('doctor')
      .summary('Check this machine and the AWS side, each problem with its fix')
      .description(
        "Check this machine and the AWS side: Node, Python 3.11 and the jobs' environment, Java 17, the jar cache, the local emulators, AWS credentials, the stream, the alert table, the EMR application, the bucket. Exit 1 when a check fails",
      ),
  )
    .addOption(new Option('--local', 'check only this machine (no AWS calls)').env('COATTAIL_LOCAL'))
    .addOption(stateDirOption("where 'coattail local up' keeps the emulators' state"))
    .addOption(new Option('--timeout <seconds>', 'longest each check may take (1 to 300; default 10)').env('COATTAIL_DOCTOR_TIMEOUT'))
    .addOption(new Option('--json', 'an array of {check, ok, detail, fix} on stdout'))
    .addHelpText('after', examples(['coattail doctor', 'coattail doctor --local', 'coattail doctor --profile prod --env prod --json | jq']))
    .action(action);
}
