/** The command tree as shell completion needs it, read from commander's commands (one source of truth). */
import type { Command } from 'commander';

export interface CompletionOption {
  /** `-v`, `--verbose`; a negatable flag keeps its `--no-` form. */
  flags: string[];
  /** The option takes a value (`--region <region>`). */
  takesValue: boolean;
  choices: string[];
  description: string;
}

export interface CompletionNode {
  /** Names from the root: [] for `coattail`, ['jobs', 'submit'] for `coattail jobs submit`. */
  path: string[];
  description: string;
  options: CompletionOption[];
  /** Choices of the first argument, when it has any (`completion <shell>`). */
  argChoices: string[];
  commands: CompletionNode[];
}

function optionsOf(command: Command): CompletionOption[] {
  return command.options
    .filter((o) => !o.hidden)
    .map((o) => ({
      flags: [o.short, o.long].filter((f): f is string => typeof f === 'string'),
      takesValue: o.required || o.optional,
      choices: o.argChoices ?? [],
      description: o.description,
    }));
}

const HELP_OPTION: CompletionOption = { flags: ['-h', '--help'], takesValue: false, choices: [], description: 'display help for command' };

/** The tree under `root`; each command's options include the root's (global) options and --help. */
export function completionTree(root: Command): CompletionNode {
  const global = optionsOf(root);
  const visit = (command: Command, path: string[]): CompletionNode => {
    const own = path.length === 0 ? global : [...optionsOf(command), ...global];
    return {
      path,
      description: command.description(),
      options: [...own, HELP_OPTION],
      argChoices: command.registeredArguments[0]?.argChoices ?? [],
      commands: command.commands.map((c) => visit(c, [...path, c.name()])),
    };
  };
  return visit(root, []);
}

/** Every node, depth first, the root first. */
export function allNodes(node: CompletionNode): CompletionNode[] {
  return [node, ...node.commands.flatMap(allNodes)];
}
