/**
 * The settings the `jobs` commands share (application, role, bucket, region, ...): flags and their
 * environment variables first, then the config file, then defaults. Every value is checked before use.
 */
import type { EMRServerlessClient } from '@aws-sdk/client-emr-serverless';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CommandContext } from '../../core/context.js';
import { errorMessage, usageError } from '../../core/errors.js';
import { checkApplicationId, checkBucket, checkRegion, checkRoleArn } from '../../config/validate.js';
import { configPath, definedOnly, pick, readConfigFile, required, saveConfigFile, type FileSettings } from '../../config/settings.js';
import { createEmrClient, createS3Client } from '../../aws/clients.js';
import type { Sleep } from './sleep.js';

export const DEFAULT_STREAM = 'coattail-trades';
export const DEFAULT_ALERTS_TABLE = 'coattail-alerts';

/** Options every AWS-facing `jobs` command takes, as commander hands them over. */
export interface AwsOptions {
  region?: string;
  config?: string;
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

export interface EmrSettings {
  file: string;
  region?: string | undefined;
  applicationId: string;
  executionRoleArn?: string | undefined;
  bucket?: string | undefined;
  logGroup?: string | undefined;
  stream: string;
  alertsTable: string;
}

export function resolveEmrSettings(opts: EmrOptions, ctx: CommandContext, need: { role?: boolean; bucket?: boolean } = {}): EmrSettings {
  const file = configPath(ctx.cwd, opts.config);
  const saved = readConfigFile(file);
  const region = pick(opts.region, saved, 'region');
  const applicationId = checkApplicationId(
    required(pick(opts.applicationId, saved, 'applicationId'), '--application-id', 'COATTAIL_EMR_APPLICATION_ID', 'applicationId'),
  );
  const role = pick(opts.executionRoleArn, saved, 'executionRoleArn');
  const bucket = pick(opts.bucket, saved, 'bucket');
  const settings: EmrSettings = {
    file,
    region: region === undefined ? undefined : checkRegion(region),
    applicationId,
    executionRoleArn: need.role
      ? checkRoleArn(required(role, '--execution-role-arn', 'COATTAIL_EMR_ROLE_ARN', 'executionRoleArn'))
      : role && checkRoleArn(role),
    bucket: need.bucket ? checkBucket(required(bucket, '--bucket', 'COATTAIL_BUCKET', 'bucket')) : bucket && checkBucket(bucket),
    logGroup: pick(opts.logGroup, saved, 'logGroup'),
    stream: pick(opts.stream, saved, 'stream', DEFAULT_STREAM)!,
    alertsTable: pick(opts.alertsTable, saved, 'alertsTable', DEFAULT_ALERTS_TABLE)!,
  };
  // Defaults are not written: only what was given, so a later default change still applies.
  if (opts.saveConfig)
    saveSettings(ctx, file, {
      ...settings,
      stream: pick(opts.stream, saved, 'stream'),
      alertsTable: pick(opts.alertsTable, saved, 'alertsTable'),
    });
  return settings;
}

export function saveSettings(ctx: CommandContext, file: string, settings: FileSettings): void {
  const { region, bucket, applicationId, executionRoleArn, logGroup, workGroup, athenaOutput, stream, alertsTable } = settings;
  const saved = saveConfigFile(
    file,
    definedOnly({ region, bucket, applicationId, executionRoleArn, logGroup, workGroup, athenaOutput, stream, alertsTable }),
  );
  ctx.logger.info(`saved settings to ${file}`, { keys: Object.keys(saved).join(',') });
}

export function emrClient(deps: JobsDeps, region: string | undefined, ctx: CommandContext): EMRServerlessClient {
  return deps.emr ?? createEmrClient({ region }, ctx.env);
}

export function s3Client(deps: JobsDeps, region: string | undefined, ctx: CommandContext): S3Client {
  return deps.s3 ?? createS3Client({ region }, ctx.env);
}

/** The region in force: the settings', else the SDK's own chain (AWS_DEFAULT_REGION, the profile). */
export async function effectiveRegion(settings: { region?: string | undefined }, emr: EMRServerlessClient): Promise<string> {
  if (settings.region) return settings.region;
  const none = (why: string) => usageError('no AWS region', why, 'pass --region (add --save-config to remember it)');
  const region = await emr.config.region().catch((err: unknown) => {
    throw none(errorMessage(err));
  });
  if (!region) throw none('none is given by --region, AWS_REGION, the config file or the AWS profile');
  return checkRegion(region);
}
