/**
 * The ingest image, without Docker (none here): the Dockerfile's properties read from the file, the build
 * context its .dockerignore lets through, and the image's exact command run as a child process (no shell,
 * as the exec-form ENTRYPOINT runs it) to show that SIGTERM and SIGINT each make it flush and exit 0.
 * hadolint lints the same file in `make lint-deploy`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseScenario, startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { ROOT } from '../helpers/deploy.js';

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions in order: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    const m = /^([A-Za-z]+)\s+([\s\S]*)$/.exec(full);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot read '${full}'`);
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
  });
  return out;
}

/** Stages, each from its FROM to the next. */
function stages(instructions: Instruction[]): Instruction[][] {
  const out: Instruction[][] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') out.push([]);
    if (out.length === 0) throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} before the first FROM`);
    out.at(-1)!.push(ins);
  }
  return out;
}

/** The exec form: a JSON array of strings, or undefined for the shell form. */
function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed = JSON.parse(args) as unknown;
  return Array.isArray(parsed) && parsed.every((x) => typeof x === 'string') ? parsed : undefined;
}

const dockerfile = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const all = stages(dockerfile);
const final = all.at(-1)!;
const named = (stage: Instruction[], keyword: string) => stage.filter((i) => i.keyword === keyword);
const single = (stage: Instruction[], keyword: string): Instruction => {
  const found = named(stage, keyword);
  expect(found, keyword).toHaveLength(1);
  return found[0]!;
};

/** Whether .dockerignore lets `rel` into the build context (its patterns in order, the last match decides). */
function inContext(rel: string): boolean {
  const rules = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const glob = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}(/.*)?$`,
    );
  let included = true;
  for (const rule of rules) {
    const negated = rule.startsWith('!');
    if (glob(negated ? rule.slice(1) : rule).test(rel)) included = negated;
  }
  return included;
}

describe('the Dockerfile', () => {
  it('builds in one stage and runs from a second, both on Node 20 slim', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    const engines = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const major = /(\d+)/.exec(engines)![1];
    for (const s of all) expect(s[0]!.args.split(/\s+/)[0]).toBe(`node:${major}-slim`);
  });

  it('runs as a non-root user from before its entrypoint on', () => {
    const users = named(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const last = users.at(-1)!;
    const user = last.args.split(':')[0]!;
    expect(['root', '0']).not.toContain(user);
    expect(last.line).toBeLessThan(single(final, 'ENTRYPOINT').line);
    expect(last.line).toBeLessThan(single(final, 'CMD').line);
  });

  it('has exec-form ENTRYPOINT and CMD only: node is the process that gets the signals', () => {
    for (const ins of dockerfile.filter((i) => i.keyword === 'ENTRYPOINT' || i.keyword === 'CMD')) {
      expect(execForm(ins.args), `line ${ins.line}: ${ins.keyword} ${ins.args}`).toBeDefined();
    }
    const entrypoint = execForm(single(final, 'ENTRYPOINT').args)!;
    expect(entrypoint[0]).toBe('node');
    expect(execForm(single(final, 'CMD').args)).toEqual(['ingest']);
    // Shell wrappers would put a shell (which does not forward SIGTERM) in front of node.
    expect(entrypoint.join(' ')).not.toMatch(/\b(sh|bash|npm|npx)\b/);
  });

  it('installs no dev dependency in the final stage and takes only the compiled code from the build stage', () => {
    const runs = named(final, 'RUN').map((r) => r.args);
    const installs = runs.filter((r) => /\bnpm (ci|install|i)\b/.test(r));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatch(/\bnpm ci\b/);
    expect(installs[0]).toContain('--omit=dev');
    const fromBuild = named(final, 'COPY').filter((c) => c.args.startsWith('--from='));
    expect(fromBuild.length).toBeGreaterThan(0);
    for (const c of fromBuild) expect(c.args).not.toContain('node_modules');
  });

  it('lays out the files the entrypoint loads: bin/coattail imports ../dist/src/cli.js, the build emits dist/src', () => {
    const workdir = single(final, 'WORKDIR').args;
    const entrypoint = execForm(single(final, 'ENTRYPOINT').args)!;
    const script = entrypoint[1]!;
    expect(existsSync(path.join(ROOT, script))).toBe(true);
    const target = /import\('([^']+)'\)/.exec(readFileSync(path.join(ROOT, script), 'utf8'))![1]!;
    const needed = path.posix.join(workdir, path.posix.dirname(script), target); // /app/dist/src/cli.js
    const copiedTo = named(final, 'COPY').map((c) => {
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      return path.posix.join(workdir, parts.at(-1)!);
    });
    expect(
      copiedTo.some((dest) => needed.startsWith(`${dest}/`)),
      `${needed} is not under ${copiedTo.join(', ')}`,
    ).toBe(true);
    expect(copiedTo).toContain(path.posix.join(workdir, path.posix.dirname(script)));
    // The build stage compiles with tsconfig.json: outDir dist, rootDir . → <workdir>/dist/src, what the final stage copies.
    const tsconfig = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    const buildDir = single(all[0]!, 'WORKDIR').args;
    const fromBuild = named(final, 'COPY').find((c) => c.args.startsWith('--from='))!;
    expect(fromBuild.args.split(/\s+/)[1]).toBe(path.posix.join(buildDir, 'dist', 'src'));
  });

  it('.dockerignore lets in what the COPYs need and keeps out local state and build output', () => {
    const sources = dockerfile
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const s of sources) expect(inContext(s.replace(/^\.\//, '')), s).toBe(true);
    for (const kept of ['node_modules', 'dist', '.coattail', '.git', 'jobs-py', 'coattail.config.json', 'test'])
      expect(inContext(kept), kept).toBe(false);
  });
});

describe("the image's command, run without a shell", () => {
  const running: { sims: SimulatorHandle[]; pids: number[] } = { sims: [], pids: [] };
  afterEach(async () => {
    for (const pid of running.pids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.all(running.sims.splice(0).map((s) => s.close()));
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s: stops reading, flushes every accepted trade, exits 0', async (signal) => {
    const sim = await startSimulator({
      scenario: parseScenario({
        symbols: [
          { symbol: 'BTC-USDT', startPrice: 65000 },
          { symbol: 'ETH-USDT', startPrice: 3200 },
        ],
        waitForClients: true,
        rate: 200,
      }),
      seed: 3,
    });
    running.sims.push(sim);
    const entrypoint = execForm(single(final, 'ENTRYPOINT').args)!;
    const cmd = execForm(single(final, 'CMD').args)!;
    // What the container runs (node replaced by this node binary), with the image's WORKDIR layout = the checkout.
    const args = [
      ...entrypoint.slice(1),
      ...cmd,
      '--sink',
      'stdout',
      '--json',
      '--stats-interval',
      '0',
      '--symbols',
      'BTC-USDT,ETH-USDT',
      '--binance-url',
      sim.binanceUrl,
      '--coinbase-url',
      sim.coinbaseUrl,
      '--binance-rest-url',
      sim.binanceRestUrl,
      '--coinbase-rest-url',
      sim.coinbaseRestUrl,
    ];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    running.pids.push(child.pid!);
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const firstTrades = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.split('\n').length > 20) resolve();
      });
    });
    // 'close', not 'exit': stdout may still hold the last trades when the process has exited.
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await Promise.race([
      firstTrades,
      exited.then((code) => {
        throw new Error(`ingest exited (${code}) before the first trades: ${err}`);
      }),
    ]);
    child.kill(signal);
    const code = await exited;
    expect(code, err).toBe(0);
    const summary = JSON.parse(err.trim().split('\n').at(-1)!) as { stop_reason: string; received: number; sent: number; failed: number };
    expect(summary.stop_reason).toBe('signal');
    expect(summary.failed).toBe(0);
    const lines = out.split('\n').filter((l) => l.length > 0);
    expect(lines.length).toBeGreaterThanOrEqual(20);
    expect(summary.sent).toBe(lines.length);
    expect(summary.received).toBe(lines.length);
  });
});
