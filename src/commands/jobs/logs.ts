/**
 * `coattail jobs logs <run>`: the driver's stdout and stderr from the run's S3 log location, on stdout (they
 * are the data asked for; a `==> location <==` header goes to stderr when both are shown). `--follow` keeps
 * reading while the run runs and prints only what is new, then stops when the run ends.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { CommandContext } from '../../core/context.js';
import { CoattailError, usageError } from '../../core/errors.js';
import { checkRunId, positiveInt } from '../../config/validate.js';
import { driverLogLocation, lastLines, logUri, readDriverLog, type DriverLog, type LogLocation } from '../../spark/emr/logs.js';
import { getRun, isTerminal } from '../../spark/emr/runs.js';
import { sleep as realSleep } from '../../spark/emr/sleep.js';
import { emrClient, resolveEmrSettings, s3Client, type EmrOptions, type JobsDeps } from '../../spark/emr/settings.js';
import { EXIT_INTERRUPTED } from '../../spark/emr/wait.js';

export interface LogsOptions extends EmrOptions {
  runId?: string;
  log?: string;
  follow?: boolean;
  tail?: string;
}

export const FOLLOW_POLL_MS = 10_000;

function whichLogs(log: string | undefined): DriverLog[] {
  const value = log ?? 'both';
  if (value === 'both') return ['stdout', 'stderr'];
  if (value === 'stdout' || value === 'stderr') return [value];
  throw usageError(
    `--log ${value} is not a driver log`,
    'the driver writes stdout and stderr',
    'pass --log stdout, --log stderr or --log both',
  );
}

/** Prints what is new in each log since the last call; remembers how much of each was printed. */
class LogPrinter {
  private printed = new Map<DriverLog, number>();
  private current: DriverLog | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly loc: LogLocation,
    private readonly which: DriverLog[],
    private readonly ctx: CommandContext,
    private readonly tail: number | undefined,
  ) {}

  /** Returns how many logs were found. */
  async poll(): Promise<number> {
    let found = 0;
    for (const which of this.which) {
      const text = await readDriverLog(this.s3, this.loc, which, this.ctx.env);
      if (text === undefined) continue;
      found++;
      const seen = this.printed.get(which);
      // A log shorter than what was printed was rewritten from the start: show it again.
      const from = seen !== undefined && seen <= text.length ? seen : 0;
      let chunk = text.slice(from);
      if (seen === undefined && this.tail !== undefined) chunk = lastLines(text, this.tail);
      this.printed.set(which, text.length);
      if (chunk.length === 0) continue;
      if (this.which.length > 1 && this.current !== which) this.ctx.stderr.write(`==> ${logUri(this.loc, which)} <==\n`);
      this.current = which;
      this.ctx.stdout.write(chunk);
    }
    return found;
  }
}

export async function jobsLogs(opts: LogsOptions, ctx: CommandContext, deps: JobsDeps = {}): Promise<number> {
  const settings = await resolveEmrSettings(opts, ctx);
  const runId = checkRunId(opts.runId ?? '');
  const which = whichLogs(opts.log);
  const tail = opts.tail === undefined ? undefined : positiveInt(opts.tail, '--tail', 1_000_000);
  const emr = emrClient(deps, settings, ctx);
  let run = await getRun(emr, settings.applicationId, runId, ctx.env);
  const loc = driverLogLocation(run);
  const printer = new LogPrinter(s3Client(deps, settings, ctx), loc, which, ctx, tail);
  if (!opts.follow) {
    if ((await printer.poll()) === 0) {
      throw new CoattailError(
        `no driver logs for job run ${runId} yet`,
        `nothing at ${logUri(loc, which[0]!)} (the run is ${run.state})`,
        'logs reach S3 once the driver runs and then in batches: try again shortly, or use --follow',
      );
    }
    return 0;
  }
  const wait = deps.sleep ?? realSleep;
  for (;;) {
    await printer.poll();
    if (isTerminal(run.state)) {
      ctx.stderr.write(`job run ${runId} ended ${run.state}\n`);
      return 0;
    }
    await wait(deps.pollMs ?? FOLLOW_POLL_MS, ctx.signal);
    if (ctx.signal.aborted) return EXIT_INTERRUPTED;
    run = await getRun(emr, settings.applicationId, runId, ctx.env);
  }
}
