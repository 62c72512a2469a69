/** The TypeScript side of the catalogue of jobs (src/spark/jobs-catalog.json, rendered by jobs-py: `make catalog`). */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { CoattailError } from '../../src/core/errors.js';
import { TABLES } from '../../src/demo/spark.js';
import {
  BATCH_JOBS,
  CATALOG,
  ICEBERG_SOURCES,
  checkJob,
  JOBS,
  jobMode,
  jobOfRunName,
  REPLAY_JOBS,
  runName,
  settingNames,
  STREAMING_JOBS,
} from '../../src/spark/jobs.js';

function command(path: string): Command {
  let cmd: Command = buildProgram({});
  for (const name of path.split(' ')) cmd = cmd.commands.find((c) => c.name() === name)!;
  return cmd;
}

describe('the catalogue of jobs', () => {
  it('holds the seven jobs of the spec, the four streaming ones first', () => {
    expect(JOBS).toEqual([
      'raw-archiver',
      'volume-anomaly',
      'whale-detector',
      'spread-calculator',
      'historical-loader',
      'reprocess-anomalies',
      'schema-evolution-demo',
    ]);
    expect(STREAMING_JOBS).toEqual(JOBS.slice(0, 4));
    expect(BATCH_JOBS).toEqual(JOBS.slice(4));
    expect(REPLAY_JOBS).toEqual(STREAMING_JOBS);
    expect(JOBS.map(jobMode)).toEqual(['STREAMING', 'STREAMING', 'STREAMING', 'STREAMING', 'BATCH', 'BATCH', 'BATCH']);
  });

  it('gives the demo every table the streaming jobs write, and nothing else', () => {
    const written = new Set(CATALOG.filter((j) => j.kind === 'streaming').flatMap((j) => j.tables));
    expect(new Set(TABLES)).toEqual(written);
  });

  it('names every job in the help of the commands that take one', () => {
    const submit = command('jobs submit').registeredArguments[0]!.description;
    const replay = command('replay').registeredArguments[0]!.description;
    for (const job of JOBS) expect(submit).toContain(job);
    for (const job of REPLAY_JOBS) expect(replay).toContain(job);
  });

  it("knows which query reads a table of its job's instead of Kinesis", () => {
    expect(ICEBERG_SOURCES).toEqual({ 'volume-anomaly/anomalies': 'volume_aggregates' });
  });

  it('takes the settings and their aliases from the catalogue', () => {
    expect(settingNames('reprocess-anomalies')).toEqual(['threshold', 'anomaly_threshold', 'min_periods', 'anomaly_min_periods']);
    expect(settingNames('historical-loader')).toEqual([]);
  });

  it("refuses a job it does not know with one usage line, and finds a run name's job", () => {
    expect(() => checkJob('whale')).toThrow(CoattailError);
    expect(() => checkJob('whale')).toThrow(/unknown job 'whale'/);
    expect(checkJob('whale-detector')).toBe('whale-detector');
    expect(jobOfRunName(runName('spread-calculator', 'n1'))).toBe('spread-calculator');
    expect(jobOfRunName('coattail-nothing')).toBeUndefined();
    expect(jobOfRunName('other-whale-detector')).toBeUndefined();
  });
});
