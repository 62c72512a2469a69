/**
 * A job on EMR Serverless: bundles jobs-py, uploads the bundle under its content hash (skipped when
 * already there), and starts the job with a deterministic client token. `dryRun` prints the exact
 * StartJobRun request instead; `wait` follows the run to its end.
 */
import path from 'node:path';
import { StartJobRunCommand, type StartJobRunCommandInput } from '@aws-sdk/client-emr-serverless';
import type { CommandContext } from '../../core/context.js';
import { bucketLayout } from '../../config/layout.js';
import { checkRunName, positiveInt } from '../../config/validate.js';
import { buildBundle } from '../../bundle/bundle.js';
import { bundleUris, fileSha256, uploadBundle, uploadVenvArchive, VENV_ARCHIVE } from '../../bundle/upload.js';
import { awsFailure } from '../../aws/errors.js';
import { usageError } from '../../core/errors.js';
import { jobMode, type JobName } from '../jobs.js';
import { activeRuns, DEFAULT_REPLACE_TIMEOUT_MINUTES, refusal, replaceRuns, type ReplaceContext } from './replace.js';
import { sparkProperties, startJobRunRequest, type SubmitSpec } from './request.js';
import { checkConfs, resourceProperties, type ResourceOptions } from './resources.js';
import { DEFAULT_EMR_PYTHON, loadEmrSparkConf, type EmrPython } from './spark-conf.js';
import { emrClient, resolveEmrSettings, s3Client, type EmrOptions, type JobsDeps } from './settings.js';
import { waitForOutcome } from './wait.js';
import { packageRoot } from '../../core/dirs.js';

/** The EMR side of `jobs submit` (and of `reprocess --emr`), as commander hands them over. */
export interface EmrSubmitOptions extends EmrOptions, ResourceOptions {
  /** `--conf key=value`, repeatable. */
  conf?: string[];
  /** Streaming: cancel the job's running run, wait until it has ended, then start this one. */
  replace?: boolean;
  replaceTimeoutMinutes?: string;
  runName?: string;
  wait?: boolean;
  cancelOnInterrupt?: boolean;
  dryRun?: boolean;
  venvArchive?: string;
  emrPython?: string;
  retriesPerHour?: string;
  timeoutMinutes?: string;
}

/** Starts `job` with its settings (`--set`) and arguments (after `--`); the exit status is the run's with `wait`. */
export async function submitToEmr(
  job: JobName,
  sets: readonly string[],
  passthrough: readonly string[],
  opts: EmrSubmitOptions,
  ctx: CommandContext,
  deps: JobsDeps = {},
): Promise<number> {
  const settings = await resolveEmrSettings(opts, ctx, { role: true, bucket: true });
  const runNonce = opts.runName === undefined ? undefined : checkRunName(opts.runName);
  const retriesPerHour = positiveInt(opts.retriesPerHour ?? '5', '--retries-per-hour', 10);
  const timeoutMinutes = positiveInt(opts.timeoutMinutes ?? '720', '--timeout-minutes', 10_080);
  const resources = resourceProperties(opts);
  const streaming = jobMode(job) === 'STREAMING';
  if (opts.replace && !streaming)
    throw usageError(
      `--replace does not apply to ${job}`,
      'a batch job keeps no checkpoint, so its runs never share one',
      'leave --replace out; stop another run with coattail jobs cancel if it must not overlap',
    );
  const replaceTimeout = positiveInt(
    opts.replaceTimeoutMinutes ?? String(DEFAULT_REPLACE_TIMEOUT_MINUTES),
    '--replace-timeout-minutes',
    1_440,
  );
  const layout = bucketLayout(settings.bucket!);
  const emr = emrClient(deps, settings, ctx);
  const region = settings.region;

  const root = deps.root ?? packageRoot();
  const bundle = buildBundle(path.join(root, 'jobs-py'));
  const template = loadEmrSparkConf(root);
  const venvFile = opts.venvArchive ? path.resolve(ctx.cwd, opts.venvArchive) : undefined;
  const venvHash = venvFile ? await fileSha256(venvFile) : undefined;
  const python: EmrPython = venvFile
    ? { kind: 'archive', uri: layout.uri(layout.venvKey(venvHash!, VENV_ARCHIVE)) }
    : { kind: 'interpreter', path: opts.emrPython ?? DEFAULT_EMR_PYTHON };
  const spec: SubmitSpec = {
    job,
    applicationId: settings.applicationId,
    executionRoleArn: settings.executionRoleArn!,
    layout,
    region,
    stream: settings.stream,
    alertsTable: settings.alertsTable,
    sets,
    passthrough,
    runNonce,
    logGroup: settings.logGroup,
    retriesPerHour,
    timeoutMinutes,
    bundle: { hash: bundle.hash, ...bundleUris(layout, bundle.hash) },
    python,
    venvHash,
    resources,
  };
  spec.confs = checkConfs(opts.conf ?? [], new Set(Object.keys(sparkProperties(template, spec))));
  let request = startJobRunRequest(spec, template);
  if (opts.dryRun) {
    ctx.stdout.write(`${JSON.stringify(request, null, 2)}\n`);
    ctx.logger.info('dry run: nothing uploaded, no job run started', { bundle: bundle.hash.slice(0, 12) });
    return 0;
  }
  if (python.kind === 'interpreter')
    ctx.logger.info(
      `the jobs run on the image's ${python.path}; if it lacks pandas, pyarrow or boto3, make an archive with coattail jobs pack-env and pass --venv-archive (docs/DEPLOY.md)`,
    );

  // Refused before anything is uploaded; replaced only once the new code is in S3, to keep the gap short.
  const way: ReplaceContext = { emr, applicationId: settings.applicationId, job, ctx, sleep: deps.sleep, pollMs: deps.pollMs };
  const inTheWay = streaming ? await activeRuns(way) : [];
  if (inTheWay.length > 0 && !opts.replace) throw refusal(job, inTheWay);

  const s3 = s3Client(deps, settings, ctx);
  const uploaded = await uploadBundle(s3, layout, bundle, ctx.env, { progress: ctx });
  ctx.logger.info(uploaded.zip === 'present' ? 'bundle already in S3' : 'bundle uploaded', { bundle: uploaded.zipUri });
  if (venvFile) {
    const venv = await uploadVenvArchive(s3, layout, venvFile, ctx.env, { progress: ctx });
    ctx.logger.info(venv.outcome === 'present' ? 'virtualenv archive already in S3' : 'virtualenv archive uploaded', { archive: venv.uri });
  }
  if (inTheWay.length > 0) {
    await replaceRuns(way, inTheWay, replaceTimeout);
    request = startJobRunRequest({ ...spec, replaces: inTheWay.map((r) => r.id ?? '') }, template);
  }
  const started = await startRun(request, emr, ctx);
  ctx.logger.info(`job run ${started.jobRunId} submitted`, { job, mode: request.mode, name: request.name });
  const summary = {
    applicationId: settings.applicationId,
    jobRunId: started.jobRunId,
    arn: started.arn,
    name: request.name,
    mode: request.mode,
    clientToken: request.clientToken,
    bundle: bundle.hash,
  };
  if (!opts.wait) {
    ctx.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : `${started.jobRunId}\n`);
    return 0;
  }
  const outcome = await waitForOutcome(
    { emr, s3, applicationId: settings.applicationId, jobRunId: started.jobRunId, label: job, ctx, deps },
    opts.cancelOnInterrupt === true,
  );
  ctx.stdout.write(
    opts.json ? `${JSON.stringify({ ...summary, state: outcome.run?.state ?? null, exitCode: outcome.code })}\n` : `${started.jobRunId}\n`,
  );
  return outcome.code;
}

async function startRun(
  request: StartJobRunCommandInput,
  emr: ReturnType<typeof emrClient>,
  ctx: CommandContext,
): Promise<{ jobRunId: string; arn: string }> {
  try {
    const out = await emr.send(new StartJobRunCommand(request));
    if (!out.jobRunId) throw new Error('StartJobRun answered without a job run id');
    return { jobRunId: out.jobRunId, arn: out.arn ?? '' };
  } catch (err) {
    throw awsFailure(err, `cannot start ${request.name} on application ${request.applicationId}`, ctx.env);
  }
}
