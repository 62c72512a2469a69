/** `coattail config show`: what it accepts. */
import { Command, Option } from 'commander';
import { awsTargetOptions, examples, type Action } from './options.js';

export function configCommand(parent: Command, actions: { show: Action }): Command {
  const config = parent.command('config').description('The settings in force and where each comes from');
  awsTargetOptions(config.command('show'))
    .description(
      'Every effective setting (region, profile, bucket, application, stream, endpoints, the config file, ...) with its source: flag, env, file, profile or default; never a secret',
    )
    .addOption(new Option('--json', 'an array of {setting, value, source} on stdout'))
    .addHelpText(
      'after',
      examples(['coattail config show', 'coattail config show --env prod --json | jq', 'AWS_PROFILE=prod coattail config show']),
    )
    .action(actions.show);
  return config;
}
