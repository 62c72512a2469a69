/**
 * Flags read from the environment: commander alone turns a flag on for any value of its variable
 * (COATTAIL_AGGREGATE=false would aggregate); coattail reads the value.
 */
import { spawnSync } from 'node:child_process';
import { Command, Option } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { readFlagsFromEnv } from '../src/cli.js';
import { BIN } from './helpers/paths.js';

const VAR = 'COATTAIL_TEST_FLAG';

afterEach(() => {
  delete process.env[VAR];
});

function parsed(value: string | undefined, argv: string[] = []): unknown {
  if (value === undefined) delete process.env[VAR];
  else process.env[VAR] = value;
  let seen: unknown = 'not run';
  const cmd = new Command('t')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .addOption(new Option('--aggregate').env(VAR))
    .hook('preAction', (c) => readFlagsFromEnv(c))
    .action((opts: { aggregate?: boolean }) => {
      seen = opts.aggregate;
    });
  cmd.parse(argv, { from: 'user' });
  return seen;
}

describe('a flag set from the environment', () => {
  it.each([
    ['1', true],
    ['true', true],
    ['TRUE', true],
    ['yes', true],
    ['on', true],
    ['0', undefined],
    ['false', undefined],
    ['False', undefined],
    ['no', undefined],
    ['off', undefined],
    ['', undefined],
  ])('%j gives %j', (value, want) => {
    expect(parsed(value)).toBe(want);
  });

  it('is unset when the variable is; the flag on the command line wins over a false variable', () => {
    expect(parsed(undefined)).toBeUndefined();
    expect(parsed('false', ['--aggregate'])).toBe(true);
  });

  it('refuses any other value as a usage error', () => {
    expect(() => parsed('maybe')).toThrow(
      "COATTAIL_TEST_FLAG='maybe' is not a yes/no value: set it to true or false (1 or 0) for --aggregate",
    );
  });

  it('through the binary: one line and exit 2', () => {
    const r = spawnSync(process.execPath, [BIN, 'ingest', '--sink', 'stdout', '--max-trades', '1'], {
      env: { ...process.env, COATTAIL_AGGREGATE: 'maybe' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "coattail: COATTAIL_AGGREGATE='maybe' is not a yes/no value: set it to true or false (1 or 0) for --aggregate. Run with --help for usage\n",
    );
    expect(r.stdout).toBe('');
  });
});
