/**
 * Completion scripts for bash, zsh and fish, rendered from the command tree. Each finds where on the command
 * line the cursor is (which command, whether the word before wants a value) the same way: walk the words,
 * step into a subcommand by its name, skip an option's value.
 */
import { allNodes, type CompletionNode } from './tree.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const words = (list: readonly string[]): string => list.join(' ');

/** One `case` arm per command path, echoing a word list (bash and zsh). */
function caseFunction(name: string, arms: ReadonlyArray<readonly [string, string]>): string {
  const body = arms
    .filter(([, list]) => list.length > 0)
    .map(([key, list]) => `    '${key}') echo '${list}' ;;`)
    .join('\n');
  return `${name}() {\n  case "$1" in\n${body}\n  esac\n}`;
}

function tables(root: CompletionNode, prefix: string): string {
  const nodes = allNodes(root);
  const key = (n: CompletionNode): string => n.path.join(' ');
  const choiceArms: Array<[string, string]> = [];
  for (const n of nodes)
    for (const o of n.options) if (o.choices.length > 0) for (const f of o.flags) choiceArms.push([`${key(n)}|${f}`, words(o.choices)]);
  return [
    caseFunction(
      `${prefix}_subcommands`,
      nodes.map((n) => [key(n), words(n.commands.map((c) => c.path.at(-1)!))]),
    ),
    caseFunction(
      `${prefix}_options`,
      nodes.map((n) => [key(n), words(n.options.flatMap((o) => o.flags))]),
    ),
    caseFunction(
      `${prefix}_value_options`,
      nodes.map((n) => [key(n), words(n.options.filter((o) => o.takesValue).flatMap((o) => o.flags))]),
    ),
    caseFunction(`${prefix}_choices`, choiceArms),
    caseFunction(
      `${prefix}_arg_choices`,
      nodes.map((n) => [key(n), words(n.argChoices)]),
    ),
  ].join('\n\n');
}

export function bashScript(root: CompletionNode): string {
  const p = '_coattail';
  return `# coattail completion for bash: source <(coattail completion bash)
${tables(root, p)}

${p}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w i skip=0 subs
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      --) break ;;
      -*)
        if [[ "$w" != *=* && " $(${p}_value_options "$path") " == *" $w "* ]]; then skip=1; fi
        continue ;;
    esac
    subs=" $(${p}_subcommands "$path") "
    if [[ "$subs" == *" $w "* ]]; then path="\${path:+$path }$w"; fi
  done
  if ((skip)); then
    local prev="\${COMP_WORDS[COMP_CWORD-1]}" choices
    choices="$(${p}_choices "$path|$prev")"
    if [[ -n "$choices" ]]; then
      COMPREPLY=($(compgen -W "$choices" -- "$cur"))
    else
      COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(${p}_options "$path")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(${p}_subcommands "$path") $(${p}_arg_choices "$path")" -- "$cur"))
  fi
  return 0
}
complete -F ${p} coattail
`;
}

/** zsh runs the bash functions through bashcompinit, as the AWS CLI's zsh completion does. */
export function zshScript(root: CompletionNode): string {
  return `#compdef coattail
# coattail completion for zsh: source <(coattail completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(root).split('\n').slice(1).join('\n')}`;
}

/** A fish single-quoted string. */
function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fishSwitch(name: string, arms: ReadonlyArray<readonly [string, readonly string[]]>): string {
  const body = arms
    .filter(([, list]) => list.length > 0)
    .map(([key, list]) => `    case ${fishQuote(key)}\n      printf '%s\\n' ${list.join(' ')}`)
    .join('\n');
  return `function ${name}\n  switch "$argv[1]"\n${body}\n  end\nend`;
}

export function fishScript(root: CompletionNode): string {
  const nodes = allNodes(root);
  const key = (n: CompletionNode): string => n.path.join(' ');
  const lines: string[] = [];
  for (const n of nodes) {
    const when = `-n ${fishQuote(`test (__coattail_path) = ${fishQuote(key(n))}`)}`;
    for (const c of n.commands)
      lines.push(`complete -c coattail -f ${when} -a ${c.path.at(-1)!} -d ${fishQuote(c.description.split('\n')[0] ?? '')}`);
    if (n.argChoices.length > 0) lines.push(`complete -c coattail -f ${when} -a ${fishQuote(n.argChoices.join(' '))}`);
    for (const o of n.options) {
      const names = o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(' ');
      const value = o.choices.length > 0 ? ` -x -a ${fishQuote(o.choices.join(' '))}` : o.takesValue ? ' -r' : '';
      lines.push(`complete -c coattail ${when} ${names}${value} -d ${fishQuote(o.description)}`);
    }
  }
  return `# coattail completion for fish: coattail completion fish | source
${fishSwitch(
  '__coattail_subcommands',
  nodes.map((n) => [key(n), n.commands.map((c) => c.path.at(-1)!)]),
)}

${fishSwitch(
  '__coattail_value_options',
  nodes.map((n) => [key(n), n.options.filter((o) => o.takesValue).flatMap((o) => o.flags)]),
)}

# The command the cursor is in: the subcommand names on the line so far, options and their values skipped.
function __coattail_path
  set -l words (commandline -opc)
  set -e words[1]
  set -l path
  set -l skip 0
  for w in $words
    if test $skip = 1
      set skip 0
      continue
    end
    switch $w
      case '--'
        break
      case '-*'
        if not string match -q -- '*=*' $w; and contains -- $w (__coattail_value_options "$path")
          set skip 1
        end
        continue
    end
    if contains -- $w (__coattail_subcommands "$path")
      set -a path $w
    end
  end
  echo "$path"
end

complete -c coattail -f
${lines.join('\n')}
`;
}

export function completionScript(shell: Shell, root: CompletionNode): string {
  if (shell === 'bash') return bashScript(root);
  if (shell === 'zsh') return zshScript(root);
  return fishScript(root);
}
