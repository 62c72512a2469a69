/**
 * The completion scripts, from the real binary, run by the real shells: bash's completion function given
 * the words of a command line (COMP_WORDS/COMP_CWORD, as bash sets them on TAB), fish's `complete -C`;
 * zsh is syntax-checked and its completion registered. A shell missing here skips its part.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { allNodes, completionTree } from '../../src/completion/tree.js';
import { BIN } from '../helpers/paths.js';
import { tempDir } from '../helpers/emr-submit.js';

const has = (shell: string): boolean => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

function script(shell: string): string {
  const r = spawnSync(process.execPath, [BIN, 'completion', shell], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  const file = path.join(tempDir(), `coattail.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
}

/** What bash offers on TAB after `line` (the last word is the one being completed; '' for a new word). */
function bashComplete(file: string, words: string[]): string[] {
  const program = `
source ${JSON.stringify(file)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})
COMP_CWORD=${words.length - 1}
COMPREPLY=()
$(complete -p coattail | sed -E 's/.*-F ([^ ]+).*/\\1/')
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', program], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter((l) => l.length > 0);
}

const tree = completionTree(buildProgram({}));
const submit = allNodes(tree).find((n) => n.path.join(' ') === 'jobs submit')!;

describe('bash completion', () => {
  const file = script('bash');

  it('registers a completion function for coattail', () => {
    const r = spawnSync('bash', ['-c', `source ${JSON.stringify(file)}; complete -p coattail`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('complete -F _coattail coattail');
  });

  it('coattail jo<TAB> → jobs', () => {
    expect(bashComplete(file, ['coattail', 'jo'])).toEqual(['jobs']);
  });

  it('coattail <TAB> → every command', () => {
    expect(bashComplete(file, ['coattail', '']).sort()).toEqual(tree.commands.map((c) => c.path[0]).sort());
    expect(bashComplete(file, ['coattail', '']).sort()).toContain('completion');
  });

  it("coattail jobs submit --<TAB> → submit's options, the global ones and --help", () => {
    const offered = bashComplete(file, ['coattail', 'jobs', 'submit', '--']);
    for (const flag of [
      '--conf',
      '--driver-memory',
      '--executor-cores',
      '--replace',
      '--dry-run',
      '--application-id',
      '--verbose',
      '--quiet',
      '--help',
    ])
      expect(offered).toContain(flag);
    expect(offered.sort()).toEqual(
      submit.options
        .flatMap((o) => o.flags)
        .filter((f) => f.startsWith('--'))
        .sort(),
    );
  });

  it('steps over global options and option values; completes choices after an option that has them', () => {
    expect(bashComplete(file, ['coattail', '-v', 'jobs', 'submit', '--region', 'eu-west-1', '--dr'])).toEqual([
      '--driver-cores',
      '--driver-memory',
      '--dry-run',
    ]);
    expect(bashComplete(file, ['coattail', 'jobs', 'pack-env', '--arch', ''])).toEqual(['x86_64', 'aarch64']);
    expect(bashComplete(file, ['coattail', 'jobs', 's'])).toEqual(['submit', 'status']);
    expect(bashComplete(file, ['coattail', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });
});

describe.skipIf(!has('zsh'))('zsh completion', () => {
  it('is valid zsh and registers coattail', () => {
    const file = script('zsh');
    expect(spawnSync('zsh', ['-n', file]).status).toBe(0);
    const r = spawnSync('zsh', ['-f', '-c', `source ${JSON.stringify(file)} && print -r -- $_comps[coattail]`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('_bash_complete -F _coattail');
  });
});

describe.skipIf(!has('fish'))('fish completion', () => {
  const fish = (file: string, line: string): string[] => {
    const r = spawnSync('fish', ['--no-config', '-c', `source ${JSON.stringify(file)}; complete -C ${JSON.stringify(line)}`], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    return r.stdout
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => l.split('\t')[0]!);
  };

  it('is valid fish and completes commands, options and choices', () => {
    const file = script('fish');
    expect(spawnSync('fish', ['--no-execute', file]).status).toBe(0);
    expect(fish(file, 'coattail jo')).toEqual(['jobs']);
    expect(fish(file, 'coattail jobs submit --dr')).toEqual(['--driver-cores', '--driver-memory', '--dry-run']);
    expect(fish(file, 'coattail jobs pack-env --arch ').sort()).toEqual(['aarch64', 'x86_64']);
  });
});

describe('every script names every command', () => {
  it.each(['bash', 'zsh', 'fish'])('%s', (shell) => {
    const r = spawnSync(process.execPath, [BIN, 'completion', shell], { encoding: 'utf8' });
    const nodes = allNodes(tree).filter((n) => n.path.length > 0);
    expect(nodes.length).toBeGreaterThan(20);
    // Each command has its own entry (a case arm in bash and zsh, a switch case in fish), keyed by its path.
    // (fish's conditions quote the path inside a quoted string.)
    const keyed = (key: string): string => (shell === 'fish' ? `\\'${key}\\'` : `'${key}'`);
    for (const n of nodes) expect(r.stdout, n.path.join(' ')).toContain(keyed(n.path.join(' ')));
    expect(r.stdout).toContain('submit list status logs cancel pack-env');
  });
});
