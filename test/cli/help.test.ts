/**
 * Usage errors end the same way whoever finds them (commander, a subcommand, a hook, an argument parser,
 * the help command): one `coattail:` line on stderr, nothing on stdout, exit 2. Help works at every depth
 * and shows the global options. Exit codes and output through the real binary.
 */
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { usageExitCode } from '../../src/cli/help.js';
import { usageError } from '../../src/core/errors.js';
import { BIN } from '../helpers/paths.js';

function coattail(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('usage errors through the binary: one line, exit 2', () => {
  it.each([
    [['nosuch'], "coattail: unknown command 'nosuch'. Run with --help for usage\n"],
    [['jobs', 'nosuch'], "coattail: unknown command 'nosuch'. Run with --help for usage\n"],
    [['jobs', 'status'], "coattail: missing required argument 'run-id'. Run with --help for usage\n"],
    [
      ['jobs', 'pack-env', '--out', 'v.tgz', '--arch', 'sparc'],
      "coattail: option '--arch <arch>' argument 'sparc' is invalid. Allowed choices are x86_64, aarch64. Run with --help for usage\n",
    ],
    [
      ['completion', 'tcsh'],
      "coattail: command-argument value 'tcsh' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish. Run with --help for usage\n",
    ],
    [['tail', '--bogus'], "coattail: unknown option '--bogus'. Run with --help for usage\n"],
    [
      ['help', 'nosuch'],
      "coattail: unknown command 'nosuch' (coattail has ingest, simulate, replay, watch, tail, local, demo, jobs, ddl, reprocess, backfill, config, doctor, completion). Run with --help for usage\n",
    ],
    [
      ['help', 'jobs', 'nosuch'],
      "coattail: unknown command 'jobs nosuch' (coattail jobs has submit, list, status, logs, cancel, pack-env). Run with --help for usage\n",
    ],
  ])('coattail %j', (args, line) => {
    const r = coattail(args);
    expect(r.stderr).toBe(line);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(2);
  });

  it('a command given without its subcommand: its help on stderr, then the line, exit 2', () => {
    const r = coattail(['jobs']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: coattail jobs [options] [command]');
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(
      "coattail: 'coattail jobs' needs a command: submit, list, status, logs, cancel, pack-env. Run coattail jobs --help for usage",
    );
  });

  it("a hook's command.error() (a flag's variable that is not yes/no) in a subcommand", () => {
    const r = coattail(['jobs', 'submit', 'whale-detector', '--dry-run'], { COATTAIL_WAIT: 'perhaps' });
    expect(r.stderr).toBe(
      "coattail: COATTAIL_WAIT='perhaps' is not a yes/no value: set it to true or false (1 or 0) for --wait. Run with --help for usage\n",
    );
    expect(r.status).toBe(2);
  });

  it("a handler's usage error (a --conf of the wrong shape) is one line and exit 2, before any AWS call", () => {
    const r = coattail(
      ['jobs', 'submit', 'whale-detector', '--conf', 'executor.memory=8g', '--application-id', '00fabc', '--region', 'eu-west-1'],
      { COATTAIL_EMR_ROLE_ARN: 'arn:aws:iam::123456789012:role/r', COATTAIL_BUCKET: 'my-coattail', COATTAIL_CONFIG: '/nonexistent/c.json' },
    );
    expect(r.stderr).toBe(
      "coattail: --conf 'executor.memory=8g' is not spark.KEY=VALUE: a setting is a Spark property, an equals sign and a value without spaces. Write it like --conf spark.sql.shuffle.partitions=64\n",
    );
    expect(r.status).toBe(2);
  });
});

describe('an error thrown while parsing', () => {
  const sink = (): NodeJS.WritableStream & { text: string } => {
    const w = new Writable({
      write(chunk: Buffer, _e, cb) {
        w.text += chunk.toString();
        cb();
      },
    }) as Writable & { text: string };
    w.text = '';
    return w;
  };

  it("a CoattailError from an option's argument parser: its line and its exit code", async () => {
    const program = new Command('coattail')
      .exitOverride()
      .addOption(
        new Option('--size <n>').argParser(() => {
          throw usageError("--size 'x' is not valid", 'it is a number', 'pass e.g. --size 3');
        }),
      )
      .action(() => undefined);
    const err = await program.parseAsync(['--size', 'x'], { from: 'user' }).catch((e: unknown) => e);
    const out = sink();
    expect(usageExitCode(program, ['--size', 'x'], err, out)).toBe(2);
    expect(out.text).toBe("coattail: --size 'x' is not valid: it is a number. Pass e.g. --size 3\n");
  });

  it('anything else is not a usage error: rethrown', () => {
    const program = new Command('coattail');
    const bug = new TypeError('x is undefined');
    expect(() => usageExitCode(program, [], bug, sink())).toThrow(bug);
  });
});

describe('help', () => {
  it('coattail help jobs submit shows the submit page on stdout, exit 0', () => {
    const r = coattail(['help', 'jobs', 'submit']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(coattail(['jobs', 'submit', '--help']).stdout);
    expect(r.stdout).toMatch(/^Usage: coattail jobs submit \[options\] <job> \[args\.\.\.\]/);
  });

  it('a reader that closes the pipe early (| head -1) ends it quietly, exit 0', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" help jobs submit | head -1; echo "status=\${PIPESTATUS[0]}" >&2`], {
      env: process.env,
      encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/^Usage: coattail jobs submit /);
    expect(r.stderr).toBe('status=0\n');
  });

  it('every command shows -v/--verbose and -q/--quiet', () => {
    const program = buildProgram({});
    const pages: Array<[string, string]> = [];
    const visit = (command: Command, path: string): void => {
      pages.push([path, command.helpInformation()]);
      for (const sub of command.commands) visit(sub, `${path} ${sub.name()}`);
    };
    visit(program, 'coattail');
    expect(pages.length).toBeGreaterThan(20);
    const without = pages.filter(([, page]) => !page.includes('-v, --verbose') || !page.includes('-q, --quiet')).map(([p]) => p);
    expect(without).toEqual([]);
  });
});
