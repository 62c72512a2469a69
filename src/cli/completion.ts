/** `coattail completion bash|zsh|fish`: what it accepts. */
import { Argument, Command } from 'commander';
import { SHELLS } from '../completion/scripts.js';
import { examples, type Action } from './options.js';

export function completionCommand(parent: Command, action: Action): Command {
  return parent
    .command('completion')
    .description('Print the shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText(
      'after',
      examples([
        'source <(coattail completion bash)            # bash, now; add the line to ~/.bashrc to keep it',
        'source <(coattail completion zsh)             # zsh, now; add the line to ~/.zshrc to keep it',
        'coattail completion fish > ~/.config/fish/completions/coattail.fish',
      ]),
    )
    .action(action);
}
