/**
 * `coattail --help` cold start against a bare `node -e ""` in the same run: the CLI declares its
 * command tree only and imports a command's module when it runs, so help loads no SDK.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/coattail', import.meta.url));

function timeMs(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export interface ColdStartResult {
  runs: number;
  node_baseline_ms: number;
  help_ms: number;
  ingest_help_ms: number;
  help_over_baseline: number;
}

export function benchColdStart(runs = 15): ColdStartResult {
  const base: number[] = [];
  const help: number[] = [];
  const ingestHelp: number[] = [];
  timeMs([BIN, '--help']); // file-system cache warm-up
  for (let i = 0; i < runs; i++) {
    base.push(timeMs(['-e', '']));
    help.push(timeMs([BIN, '--help']));
    ingestHelp.push(timeMs([BIN, 'ingest', '--help']));
  }
  const b = median(base);
  const h = median(help);
  return {
    runs,
    node_baseline_ms: Math.round(b),
    help_ms: Math.round(h),
    ingest_help_ms: Math.round(median(ingestHelp)),
    help_over_baseline: Math.round((h / b) * 100) / 100,
  };
}
