/**
 * Help and usage errors the same way at every level: `coattail help jobs submit` shows the submit page, and
 * whatever detects a usage error (commander, a hook, an argument parser, a command given without its
 * subcommand) ends in one `coattail:` line and exit 2.
 */
import { Command, CommanderError } from 'commander';
import { CoattailError } from '../core/errors.js';
import { examples } from './options.js';

/** The command a path of names leads to, and how far the names matched. */
export function findCommand(root: Command, names: readonly string[]): { command: Command; matched: number } {
  let command = root;
  let matched = 0;
  for (const name of names) {
    const next = command.commands.find((c) => c.name() === name || c.aliases().includes(name));
    if (!next) break;
    command = next;
    matched += 1;
  }
  return { command, matched };
}

/** `help [command...]`, in place of commander's, which looks one level down only. */
export function helpCommand(program: Command): Command {
  program.helpCommand(false);
  return program
    .command('help')
    .description('show the help of a command, e.g. coattail help jobs submit')
    .argument('[command...]', 'the command, with its subcommands')
    .addHelpText('after', examples(['coattail help jobs submit', 'coattail help local up']))
    .action((names: string[]) => {
      const { command, matched } = findCommand(program, names);
      if (matched < names.length) {
        const known = command.commands.map((c) => c.name()).filter((n) => n !== 'help');
        const where = command === program ? 'coattail' : `coattail ${names.slice(0, matched).join(' ')}`;
        program.error(`unknown command '${names.slice(0, matched + 1).join(' ')}' (${where} has ${known.join(', ')})`, {
          code: 'commander.unknownCommand',
        });
      }
      command.outputHelp();
      // Ends as --help does (main() exits 0 at once), so a reader that has closed the pipe (`| head`) cannot
      // turn the rest of the page into an EPIPE error.
      throw new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)');
    });
}

/**
 * The exit code for what parsing threw (after commander printed its own line): 0 for help and --version,
 * 2 for any usage error, a CoattailError's own code (printed here, as one line); anything else is rethrown.
 */
export function usageExitCode(program: Command, args: readonly string[], err: unknown, stderr: NodeJS.WritableStream): number {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0;
    // A command with subcommands given alone: commander has printed its help; say what was wrong.
    if (err.code === 'commander.help') {
      const names = args.filter((a) => !a.startsWith('-'));
      const { command, matched } = findCommand(program, names);
      const path = ['coattail', ...names.slice(0, matched)].join(' ');
      const subs = command.commands.map((c) => c.name()).filter((n) => n !== 'help');
      stderr.write(`coattail: '${path}' needs a command: ${subs.join(', ')}. Run ${path} --help for usage\n`);
    }
    return 2;
  }
  if (err instanceof CoattailError) {
    stderr.write(`${err.line()}\n`);
    return err.exitCode;
  }
  throw err;
}
