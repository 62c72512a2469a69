/**
 * Starts the real local emulators once for the whole vitest run: the Kinesis emulator (kinesis-local)
 * as a child process and dynalite in-process, each on a free port. Tests read the endpoints with
 * `inject('kinesisEndpoint')` / `inject('dynamoEndpoint')`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import dynalite from 'dynalite';
import { freePort, spawnKinesisEmulator, stopProcess, waitForPort } from '../../src/local/processes.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kinesisEndpoint: string;
    dynamoEndpoint: string;
  }
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Tests that spawn bin/coattail need dist/ to match src/: rebuild when a source is newer. */
function ensureBuilt(): void {
  const marker = path.join(repoRoot, 'dist/src/cli.js');
  if (existsSync(marker) && statSync(marker).mtimeMs >= newestMtime(path.join(repoRoot, 'src'))) return;
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`the build failed before the tests:\n${r.stdout}${r.stderr}`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureBuilt();
  const port = await freePort();
  const tlsPort = await freePort();
  const kinesis = spawnKinesisEmulator({ port, tlsPort });
  const dynamoPort = await freePort();
  const dyn = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => dyn.listen(dynamoPort, '127.0.0.1', () => resolve()));
  await waitForPort(port, '127.0.0.1', 60_000);
  project.provide('kinesisEndpoint', `http://127.0.0.1:${port}`);
  project.provide('dynamoEndpoint', `http://127.0.0.1:${dynamoPort}`);
  return async () => {
    await new Promise<void>((resolve) => dyn.close(() => resolve()));
    if (kinesis.pid) await stopProcess(kinesis.pid, 500);
  };
}
