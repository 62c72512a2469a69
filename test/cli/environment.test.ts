/**
 * Every option reads an environment variable, or is on the short list of flag-only options with a reason;
 * and the README's reference is the rendering of the command tree. Both walk the whole tree, so options
 * added later are held to the same rule.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { ENVIRONMENT_ONLY, FLAG_ONLY } from '../../src/cli/environment.js';
import { optionsReference, REFERENCE_END, REFERENCE_START } from '../../src/cli/reference.js';
import { REPO_ROOT } from '../helpers/paths.js';

interface Found {
  command: string;
  flags: string;
  long: string | undefined;
  envVar: string | undefined;
}

function everyOption(command: Command, path: string[] = ['coattail']): Found[] {
  return [
    ...command.options.map((o) => ({ command: path.join(' '), flags: o.flags, long: o.long, envVar: o.envVar })),
    ...command.commands.flatMap((c) => everyOption(c, [...path, c.name()])),
  ];
}

describe('environment variables', () => {
  const options = everyOption(buildProgram({}));

  it('every option has a variable, or is flag-only for a stated reason', () => {
    const missing = options.filter((o) => !o.envVar && !(o.long && FLAG_ONLY[o.long])).map((o) => `${o.command} ${o.flags}`);
    expect(missing).toEqual([]);
    // The walk sees the whole tree (a walk that found nothing would pass the check above).
    expect(options.length).toBeGreaterThan(150);
    expect(options).toContainEqual(
      expect.objectContaining({ command: 'coattail jobs submit', long: '--conf', envVar: 'COATTAIL_EMR_CONF' }),
    );
  });

  it('the exception list is short, explained, and holds no option that has a variable somewhere', () => {
    expect(Object.keys(FLAG_ONLY).length).toBeLessThanOrEqual(25);
    for (const [flag, why] of Object.entries(FLAG_ONLY)) expect(why.length, flag).toBeGreaterThan(5);
    const withVariable = new Set(options.filter((o) => o.envVar).map((o) => o.long));
    expect(Object.keys(FLAG_ONLY).filter((f) => withVariable.has(f))).toEqual([]);
  });

  it('variables are COATTAIL_* (or the AWS SDK own), upper case, and one variable means one thing', () => {
    const byVar = new Map<string, Set<string>>();
    for (const o of options.filter((x) => x.envVar)) {
      expect(o.envVar).toMatch(/^(COATTAIL|AWS)_[A-Z0-9_]+$/);
      byVar.set(o.envVar!, (byVar.get(o.envVar!) ?? new Set()).add(o.long ?? o.flags));
    }
    // One variable read by differently named options must mean the same value in each: the alert table (watch
    // --table), the image's Python (pack-env --interpreter), the archive pack-env writes and submit uploads.
    const shared = [...byVar].filter(([, longs]) => longs.size > 1).map(([v, longs]) => `${v}: ${[...longs].sort().join(', ')}`);
    expect(shared.sort()).toEqual([
      'COATTAIL_ALERTS_TABLE: --alerts-table, --table',
      'COATTAIL_EMR_PYTHON: --emr-python, --interpreter',
      'COATTAIL_EMR_VENV_ARCHIVE: --out, --venv-archive',
    ]);
  });

  it('COATTAIL_EMR_CONF holds several Spark properties, space-separated; --conf on the command line wins', async () => {
    const seen: unknown[] = [];
    const program = (): Command =>
      buildProgram({
        'jobs submit': (_job: string, _args: string[], opts: { conf?: string[] }) => void seen.push(opts.conf),
      });
    process.env.COATTAIL_EMR_CONF = ' spark.speculation=true   spark.sql.shuffle.partitions=32 ';
    try {
      await program().parseAsync(['node', 'coattail', 'jobs', 'submit', 'whale-detector']);
      await program().parseAsync(['node', 'coattail', 'jobs', 'submit', 'whale-detector', '--conf', 'spark.task.maxFailures=8']);
    } finally {
      delete process.env.COATTAIL_EMR_CONF;
    }
    expect(seen).toEqual([['spark.speculation=true', 'spark.sql.shuffle.partitions=32'], ['spark.task.maxFailures=8']]);
  });

  it("the README's reference is the rendering of the command tree (npm run options-doc rewrites it)", () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf(REFERENCE_START);
    const end = readme.indexOf(REFERENCE_END);
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start, end + REFERENCE_END.length)).toBe(optionsReference(buildProgram({})));
  });

  it('the root help lists the variables that have no flag, and the flag-only options', () => {
    const root = buildProgram({});
    let text = '';
    root.configureOutput({ writeOut: (s) => void (text += s) });
    root.outputHelp();
    for (const v of ENVIRONMENT_ONLY) expect(text).toContain(v.name);
    expect(text).toContain('--dry-run, --save-config, --replace');
  });
});
