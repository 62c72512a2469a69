/**
 * The package as an operator gets it: `npm pack` of this checkout, installed with `npm install -g` into a
 * temporary prefix, and the installed `coattail` run from a folder outside the checkout. The tarball is
 * packed with --ignore-scripts: the global setup has just built dist/, which is what prepack would do.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { testContext } from '../helpers/context.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { parseScenario, startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { ensureJobsPython } from '../../src/spark/python.js';
import { UnifiedTradeSchema } from '../../src/trade.js';

const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let prefix = '';
let installed = ''; // the installed package's folder
let bin = '';
let outside = ''; // a working folder outside the checkout
let home = ''; // HOME and the XDG folders of the runs: nothing of the real user's is read or written

function npm(args: string[], cwd: string): void {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  expect(r.status, `npm ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
}

/** Every file under `dir`, relative, sorted: what the install holds. */
function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))]))
    .sort();
}

function runEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_CACHE_HOME: path.join(home, 'cache'),
    NO_COLOR: '1',
    ...extra,
  };
}

let dir = '';
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'coattail-install-'));
  prefix = path.join(dir, 'prefix');
  outside = path.join(dir, 'work');
  home = path.join(dir, 'home');
  mkdirSync(outside);
  mkdirSync(home);
  npm(['pack', '--ignore-scripts', '--pack-destination', dir], REPO_ROOT);
  const tarball = path.join(dir, `coattail-${VERSION}.tgz`);
  expect(existsSync(tarball)).toBe(true);
  npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], dir);
  installed = path.join(prefix, 'lib', 'node_modules', 'coattail');
  bin = path.join(prefix, 'bin', 'coattail');
}, 120_000);

describe('the installed package', () => {
  it('holds the build, the jobs and their lock, the DDL, the scenarios and the schema; no tests, no environments', () => {
    const files = filesUnder(installed).filter((f) => !f.startsWith('node_modules/'));
    for (const f of [
      'bin/coattail',
      'dist/src/cli.js',
      'jobs-py/uv.lock',
      'jobs-py/pyproject.toml',
      'jobs-py/scripts/python-env.sh',
      'jobs-py/emr_main.py',
      'jobs-py/emr-spark-conf.json',
      'jobs-py/coattail_jobs/__main__.py',
      'ddl/raw_trades.sql',
      'scenarios/default.json',
      'docs/unified-trade.schema.json',
      'README.md',
    ])
      expect(files, f).toContain(f);
    const unwanted = files.filter((f) =>
      /^(test|src|bench|dist\/bench)\/|\.map$|^jobs-py\/(tests|\.venv|\.jars|\.tools|\.ivy)\/|egg-info|__pycache__/.test(f),
    );
    expect(unwanted).toEqual([]);
  });

  it('--help and --version work from a folder outside the checkout', () => {
    const help = spawnSync(bin, ['--help'], { cwd: outside, env: runEnv(), encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: coattail /);
    expect(help.stdout).toContain('ingest');
    const version = spawnSync(bin, ['--version'], { cwd: outside, env: runEnv(), encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
  });

  it('finds its own files from anywhere: the built-in scenarios', () => {
    const r = spawnSync(bin, ['simulate', '--list', '--json'], { cwd: outside, env: runEnv(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const names = (JSON.parse(r.stdout) as { name: string }[]).map((s) => s.name);
    const shipped = readdirSync(path.join(REPO_ROOT, 'scenarios')).map((f) => f.replace(/\.json$/, ''));
    expect(names.sort()).toEqual(shipped.sort());
  });

  it('config show finds the config file above the working folder and names where each setting came from', () => {
    // A project folder with its config file, and a working folder two levels below it.
    const project = path.join(outside, 'project');
    const deep = path.join(project, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    writeFileSync(
      path.join(project, 'coattail.config.json'),
      JSON.stringify({ region: 'eu-west-1', stream: 'trades-x', environments: { prod: { region: 'eu-central-1' } } }),
    );
    const r = spawnSync(bin, ['config', 'show', '--json', '--env', 'prod'], {
      cwd: deep,
      env: runEnv(),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { setting: string; value?: string; source: string }[];
    const row = (name: string) => rows.find((x) => x.setting === name);
    expect(row('region')?.value).toBe('eu-central-1');
    expect(row('region')?.source).toContain('env prod');
    expect(row('stream')?.value).toBe('trades-x');
    expect(row('stream')?.source).toContain(path.join(project, 'coattail.config.json'));
  });

  it('doctor --local --json checks this machine: one result per check, the exit code saying whether any failed', () => {
    const r = spawnSync(bin, ['doctor', '--local', '--json', '--state-dir', path.join(outside, 'no-state')], {
      cwd: outside,
      env: runEnv(),
      encoding: 'utf8',
    });
    const results = JSON.parse(r.stdout) as { check: string; ok: boolean; skipped?: boolean }[];
    const checks = results.map((x) => x.check);
    for (const c of ['node', 'python', 'java']) expect(checks).toContain(c);
    expect(results.find((x) => x.check === 'node')?.ok).toBe(true);
    expect(r.status, r.stderr).toBe(results.every((x) => x.ok) ? 0 : 1);
  });

  it('completion bash gives a script a real bash loads, completing the command names', () => {
    const script = spawnSync(bin, ['completion', 'bash'], { cwd: outside, env: runEnv(), encoding: 'utf8' });
    expect(script.status, script.stderr).toBe(0);
    const file = path.join(outside, 'coattail.bash');
    writeFileSync(file, script.stdout);
    // What bash does on TAB after `coattail doc`: the completion function fills COMPREPLY.
    const probe = `
source ${JSON.stringify(file)}
complete -p coattail
COMP_WORDS=(coattail doc)
COMP_CWORD=1
COMPREPLY=()
$(complete -p coattail | sed -E 's/.*-F ([^ ]+).*/\\1/')
printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['--norc', '-c', probe], { cwd: outside, env: runEnv(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('complete -F');
    expect(r.stdout.trim().split('\n').slice(1)).toEqual(['doctor']);
  });

  describe('ingest --sink stdout against the simulator', () => {
    let sim: SimulatorHandle;
    beforeAll(async () => {
      sim = await startSimulator({
        scenario: parseScenario({ symbols: [{ symbol: 'BTC-USDT', startPrice: 100 }], waitForClients: true, rate: 200 }),
        seed: 3,
      });
    });
    afterAll(() => sim.close());

    it('prints exactly N valid unified trades', async () => {
      const n = 25;
      const child = spawn(
        bin,
        [
          'ingest',
          '--sink',
          'stdout',
          '--max-trades',
          String(n),
          '--symbols',
          'BTC-USDT',
          '--binance-url',
          sim.binanceUrl,
          '--coinbase-url',
          sim.coinbaseUrl,
          '--binance-rest-url',
          sim.binanceRestUrl,
          '--coinbase-rest-url',
          sim.coinbaseRestUrl,
          '--stats-interval',
          '0',
        ],
        { cwd: outside, env: runEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code, err).toBe(0);
      const lines = out.split('\n').filter((l) => l.length > 0);
      expect(lines).toHaveLength(n);
      for (const line of lines) expect(UnifiedTradeSchema.safeParse(JSON.parse(line)).success, line).toBe(true);
    });
  });

  it(
    "creates the jobs' Python environment in the user's data folder on first use, writing nothing inside the package",
    { timeout: 240_000 },
    async () => {
      const before = filesUnder(installed);
      // The operator's own environment (HOME with uv's and pip's caches: a re-sync from uv's cache is quick;
      // proxies and certificates), with the test's data folder; not a checkout's or a configured Python.
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        XDG_DATA_HOME: path.join(home, 'data'),
        COATTAIL_JARS_DIR: process.env.COATTAIL_JARS_DIR ?? path.join(REPO_ROOT, 'jobs-py', '.jars'),
      };
      delete env.COATTAIL_PYTHON;
      const ctx = testContext({ cwd: outside, env });
      ctx.logger = createLogger(ctx.err, { level: 'info' });
      const python = await ensureJobsPython(ctx, { root: installed });
      const envs = path.join(home, 'data', 'coattail', 'python');
      expect(path.dirname(path.dirname(path.dirname(python)))).toBe(envs);
      expect(existsSync(path.join(path.dirname(path.dirname(python)), '.complete'))).toBe(true);
      expect(ctx.err.text()).toContain("creating the jobs' Python environment (first use");

      // The installed jobs answer through it: the jars' module names the jars folder it was given.
      const jars = spawnSync(python, ['-m', 'coattail_jobs.jars', '--json'], { cwd: outside, env, encoding: 'utf8' });
      expect(jars.status, jars.stderr).toBe(0);
      const paths = (JSON.parse(jars.stdout) as { jars: string[] }).jars;
      expect(paths.map((p) => path.dirname(p))).toEqual([env.COATTAIL_JARS_DIR, env.COATTAIL_JARS_DIR]);

      // pip is in it, for jobs pack-env (the pack extra).
      const pip = spawnSync(python, ['-m', 'pip', '--version'], { cwd: outside, env, encoding: 'utf8' });
      expect(pip.status, pip.stderr).toBe(0);

      // A second use finds it complete: the same interpreter, nothing created again.
      const again = testContext({ cwd: outside, env });
      again.logger = createLogger(again.err, { level: 'info' });
      expect(await ensureJobsPython(again, { root: installed })).toBe(python);
      expect(again.err.text()).not.toContain('creating');
      expect(filesUnder(installed)).toEqual(before);
    },
  );
});
