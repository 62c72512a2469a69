/**
 * The settings the `jobs` commands share (application, role, bucket, region, ...): flags and their
 * environment variables first, then the config file, then defaults. Every value is checked before use.
 */
import type { EMRServerlessClient } from '@aws-sdk/client-emr-serverless';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CommandContext } from '../../core/context.js';
import { checkApplicationId, checkBucket, checkRoleArn } from '../../config/validate.js';
import { definedOnly, pick, required, saveConfigFile, type FileSettings, type LoadedConfig } from '../../config/settings.js';
import { createEmrClient, createS3Client } from '../../aws/clients.js';
import { resolveAwsTarget, type AwsTargetOptions } from '../../aws/target.js';
import { DEFAULT_ALERTS_TABLE, DEFAULT_STREAM } from '../../config/defaults.js';
import type { Sleep } from './sleep.js';

export { DEFAULT_ALERTS_TABLE, DEFAULT_STREAM } from '../../config/defaults.js';

/** Options every AWS-facing `jobs` command takes, as commander hands them over. */
export interface AwsOptions extends AwsTargetOptions {
  saveConfig?: boolean;
  json?: boolean;
}

export interface EmrOptions extends AwsOptions {
  applicationId?: string;
  executionRoleArn?: string;
  bucket?: string;
  logGroup?: string;
  stream?: string;
  alertsTable?: string;
}

/** What tests inject instead of real clients and real waiting. */
export interface JobsDeps {
  emr?: EMRServerlessClient;
  s3?: S3Client;
  sleep?: Sleep;
  pollMs?: number;
  /** The repository root (jobs-py/ and ddl/ live there). */
  root?: string;
}

/** Options of the commands that act on one run (`jobs status`, `jobs cancel`). */
export interface RunOptions extends EmrOptions {
  runId?: string;
  wait?: boolean;
}

/** Where the clients go: the region (by the one rule, src/aws/region.ts) and the profile to sign with. */
export interface AwsPlace {
  region: string;
  profile?: string | undefined;
}

export interface EmrSettings extends AwsPlace {
  file: string;
  config: LoadedConfig;
  applicationId: string;
  executionRoleArn?: string | undefined;
  bucket?: string | undefined;
  logGroup?: string | undefined;
  stream: string;
  alertsTable: string;
}

export async function resolveEmrSettings(
  opts: EmrOptions,
  ctx: CommandContext,
  need: { role?: boolean; bucket?: boolean } = {},
): Promise<EmrSettings> {
  const target = await resolveAwsTarget(opts, ctx);
  const saved = target.config.settings;
  const applicationId = checkApplicationId(
    required(pick(opts.applicationId, saved, 'applicationId'), '--application-id', 'COATTAIL_EMR_APPLICATION_ID', 'applicationId'),
  );
  const role = pick(opts.executionRoleArn, saved, 'executionRoleArn');
  const bucket = pick(opts.bucket, saved, 'bucket');
  const settings: EmrSettings = {
    file: target.config.path,
    config: target.config,
    region: target.region!.value,
    profile: target.profile?.value,
    applicationId,
    executionRoleArn: need.role
      ? checkRoleArn(required(role, '--execution-role-arn', 'COATTAIL_EMR_ROLE_ARN', 'executionRoleArn'))
      : role && checkRoleArn(role),
    bucket: need.bucket ? checkBucket(required(bucket, '--bucket', 'COATTAIL_BUCKET', 'bucket')) : bucket && checkBucket(bucket),
    logGroup: pick(opts.logGroup, saved, 'logGroup'),
    stream: pick(opts.stream, saved, 'stream', DEFAULT_STREAM)!,
    alertsTable: pick(opts.alertsTable, saved, 'alertsTable', DEFAULT_ALERTS_TABLE)!,
  };
  // Only what was given (flags and their variables), never defaults nor what the file already holds: a later
  // default change still applies, and nothing from the top level is copied into an environment.
  if (opts.saveConfig)
    saveSettings(ctx, target.config, {
      region: opts.region,
      profile: opts.profile,
      applicationId: opts.applicationId,
      executionRoleArn: opts.executionRoleArn,
      bucket: opts.bucket,
      logGroup: opts.logGroup,
      stream: opts.stream,
      alertsTable: opts.alertsTable,
    });
  return settings;
}

/** `--save-config`: into the file in use (or a new ./coattail.config.json), and into `--env`'s environment when one is chosen. */
export function saveSettings(ctx: CommandContext, config: LoadedConfig, settings: FileSettings): void {
  const { region, profile, bucket, applicationId, executionRoleArn, logGroup, workGroup, athenaOutput, stream, alertsTable } = settings;
  const saved = saveConfigFile(
    config.path,
    definedOnly({ region, profile, bucket, applicationId, executionRoleArn, logGroup, workGroup, athenaOutput, stream, alertsTable }),
    config.envName,
  );
  const where = config.envName === undefined ? config.path : `${config.path} (env ${config.envName})`;
  ctx.logger.info(`saved settings to ${where}`, { keys: Object.keys(saved).join(',') });
}

export function emrClient(deps: JobsDeps, place: AwsPlace, ctx: CommandContext): EMRServerlessClient {
  return deps.emr ?? createEmrClient(place, ctx.env);
}

export function s3Client(deps: JobsDeps, place: AwsPlace, ctx: CommandContext): S3Client {
  return deps.s3 ?? createS3Client(place, ctx.env);
}
