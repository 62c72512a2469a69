/** `coattail completion <shell>`: the completion script, generated from the command tree, on stdout. */
import type { Command } from 'commander';
import type { CommandContext } from '../core/context.js';
import { usageError } from '../core/errors.js';
import { completionScript, SHELLS, type Shell } from '../completion/scripts.js';
import { completionTree } from '../completion/tree.js';

export interface CompletionOptions {
  shell: string;
  /** The whole program, whose commands and options the script completes. */
  program: Command;
}

export async function completion(opts: CompletionOptions, ctx: CommandContext): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(opts.shell))
    throw usageError(
      `no completion for '${opts.shell}'`,
      `the shells are ${SHELLS.join(', ')}`,
      'pass one of them, e.g. coattail completion bash',
    );
  ctx.stdout.write(completionScript(opts.shell as Shell, completionTree(opts.program)));
  return 0;
}
