/**
 * The StartJobRun request of `coattail jobs submit`, built from checked settings (pure: no I/O). Everything
 * Spark needs goes in the `spark-defaults` classification as properties, so no spark-submit command line is
 * ever assembled as a string; the job's own arguments are an array.
 */
import { createHash } from 'node:crypto';
import type { StartJobRunCommandInput } from '@aws-sdk/client-emr-serverless';
import type { BucketLayout } from '../../config/layout.js';
import { jobMode, runName, type JobName } from '../jobs.js';
import { sparkSubmitParameters } from './resources.js';
import { pythonProperties, renderSparkConf, type EmrPython } from './spark-conf.js';

export interface SubmitSpec {
  job: JobName;
  applicationId: string;
  executionRoleArn: string;
  layout: BucketLayout;
  region: string;
  stream: string;
  alertsTable: string;
  /** `--set NAME=VALUE`, passed through to the job. */
  sets: readonly string[];
  /** Arguments after `--`, passed through to the job. */
  passthrough: readonly string[];
  /** `--run-name`: a nonce that makes a deliberate re-run a new run. */
  runNonce?: string | undefined;
  /** CloudWatch Logs group, when the run should also log there. */
  logGroup?: string | undefined;
  retriesPerHour: number;
  timeoutMinutes: number;
  bundle: { hash: string; zipUri: string; entryUri: string };
  python: EmrPython;
  /** sha256 of the virtualenv archive, when one is used (part of the client token). */
  venvHash?: string | undefined;
  /** The resource flags' `spark.*` settings (src/spark/emr/resources.ts). */
  resources?: Readonly<Record<string, string>> | undefined;
  /** `--conf key=value` pairs, checked, for sparkSubmitParameters. */
  confs?: ReadonlyArray<readonly [string, string]> | undefined;
  /** `--replace`: the runs this one replaces (part of the client token, so it is not answered with the old run). */
  replaces?: readonly string[] | undefined;
}

/**
 * What the job's entry point gets: --mode emr (the Glue catalog and S3, never the driver's own disk) and, for a
 * streaming job, the locations of this deployment it writes to, then the job's own arguments (which come later
 * and win). A batch job's tables are in the Glue catalog its Spark configuration names.
 */
export function jobArguments(spec: SubmitSpec): string[] {
  if (jobMode(spec.job) === 'BATCH') return [spec.job, '--mode', 'emr', ...spec.passthrough];
  return [
    spec.job,
    '--mode',
    'emr',
    '--stream',
    spec.stream,
    '--region',
    spec.region,
    '--alerts-table',
    spec.alertsTable,
    '--checkpoint-root',
    spec.layout.checkpointRoot,
    '--raw-root',
    spec.layout.rawRoot,
    ...spec.sets.flatMap((s) => ['--set', s]),
    ...spec.passthrough,
  ];
}

export interface TokenInput {
  applicationId: string;
  job: string;
  bundleHash: string;
  venvHash?: string | undefined;
  args: readonly string[];
  runNonce?: string | undefined;
  /** The Spark settings the operator chose (resources, --conf): a run with other settings is another run. */
  sparkSettings?: ReadonlyArray<readonly [string, string]> | undefined;
  /** The runs a `--replace` ended: the same command after a replacement must start a new run. */
  replaces?: readonly string[] | undefined;
}

/**
 * The idempotency token: sha256 (64 hex characters, StartJobRun's limit) of what makes a run this run. The
 * same command twice gives the same token, and EMR Serverless answers the second StartJobRun with the first
 * run instead of starting another; `--run-name` changes it on purpose.
 */
export function clientToken(t: TokenInput): string {
  const base = [t.applicationId, t.job, t.bundleHash, t.venvHash ?? null, [...t.args], t.runNonce ?? null];
  const settings = t.sparkSettings ?? [];
  const replaces = t.replaces ?? [];
  // Only when there are any, so a command without them keeps the token it always had.
  const extra = settings.length > 0 || replaces.length > 0 ? [{ spark: settings.map(([k, v]) => [k, v]), replaces: [...replaces] }] : [];
  const canonical = JSON.stringify([...base, ...extra]);
  return createHash('sha256').update(canonical).digest('hex');
}

export function sparkProperties(template: Record<string, string>, spec: SubmitSpec): Record<string, string> {
  const props = {
    ...renderSparkConf(template, spec.layout.bucket),
    'spark.submit.pyFiles': spec.bundle.zipUri,
    ...pythonProperties(spec.python),
    ...spec.resources,
  };
  return Object.fromEntries(Object.entries(props).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function startJobRunRequest(spec: SubmitSpec, template: Record<string, string>): StartJobRunCommandInput {
  const args = jobArguments(spec);
  const streaming = jobMode(spec.job) === 'STREAMING';
  const submitParameters = sparkSubmitParameters(spec.confs ?? []);
  return {
    applicationId: spec.applicationId,
    clientToken: clientToken({
      applicationId: spec.applicationId,
      job: spec.job,
      bundleHash: spec.bundle.hash,
      venvHash: spec.venvHash,
      args,
      runNonce: spec.runNonce,
      sparkSettings: [...Object.entries(spec.resources ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), ...(spec.confs ?? [])],
      replaces: spec.replaces,
    }),
    executionRoleArn: spec.executionRoleArn,
    name: runName(spec.job, spec.runNonce),
    mode: streaming ? 'STREAMING' : 'BATCH',
    // Streaming: retried from the checkpoint up to N failed attempts an hour, and never timed out (0, as the
    // EMR Serverless considerations page says for streaming). Batch: one attempt, bounded.
    ...(streaming
      ? { retryPolicy: { maxFailedAttemptsPerHour: spec.retriesPerHour }, executionTimeoutMinutes: 0 }
      : { retryPolicy: { maxAttempts: 1 }, executionTimeoutMinutes: spec.timeoutMinutes }),
    jobDriver: {
      sparkSubmit: {
        entryPoint: spec.bundle.entryUri,
        entryPointArguments: args,
        ...(submitParameters ? { sparkSubmitParameters: submitParameters } : {}),
      },
    },
    configurationOverrides: {
      applicationConfiguration: [{ classification: 'spark-defaults', properties: sparkProperties(template, spec) }],
      monitoringConfiguration: {
        s3MonitoringConfiguration: { logUri: spec.layout.logUri },
        ...(spec.logGroup
          ? { cloudWatchLoggingConfiguration: { enabled: true, logGroupName: spec.logGroup, logStreamNamePrefix: `coattail/${spec.job}` } }
          : {}),
      },
    },
    tags: { 'coattail:job': spec.job, 'coattail:bundle': spec.bundle.hash },
  };
}
