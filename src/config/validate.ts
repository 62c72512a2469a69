/**
 * Strict shapes for every value that reaches an AWS request, an S3 key or SQL. Checked before anything is
 * sent, so a typo fails with one line instead of a service error, and nothing can smuggle a quote or a path
 * into a statement or a key.
 */
import { usageError } from '../core/errors.js';

/** S3 bucket names (general purpose buckets): 3-63 lower-case letters, digits, dots and hyphens. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** EMR Serverless application ids and job run ids: `[0-9a-z]+`, at most 64 (API reference). */
const EMR_ID = /^[0-9a-z]{1,64}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/** Athena work groups: letters, digits, period, underscore, hyphen, 1-128. */
const WORK_GROUP = /^[a-zA-Z0-9._-]{1,128}$/;
/** What a run name (the nonce of a deliberate re-run) may hold: it becomes part of the run's name. */
const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$/;

function check(value: string, pattern: RegExp, what: string, rule: string, fix: string): string {
  if (!pattern.test(value)) throw usageError(`${what} '${value}' is not valid`, rule, fix);
  return value;
}

export function checkBucket(value: string, flag = '--bucket'): string {
  return check(
    value,
    BUCKET,
    flag,
    'a bucket name is 3-63 lower-case letters, digits, dots and hyphens',
    `pass the bucket's name only, e.g. ${flag} my-coattail-bucket`,
  );
}

export function checkApplicationId(value: string): string {
  return check(
    value,
    EMR_ID,
    '--application-id',
    'an EMR Serverless application id is lower-case letters and digits',
    "copy it from 'aws emr-serverless list-applications' (e.g. 00fabc123def4567)",
  );
}

export function checkRunId(value: string): string {
  return check(
    value,
    EMR_ID,
    'job run id',
    'an EMR Serverless job run id is lower-case letters and digits',
    "copy it from 'coattail jobs list'",
  );
}

export function checkRoleArn(value: string): string {
  return check(
    value,
    ROLE_ARN,
    '--execution-role-arn',
    'it must be an IAM role ARN',
    'pass it like arn:aws:iam::123456789012:role/coattail-emr-job',
  );
}

export function checkRegion(value: string): string {
  return check(value, REGION, '--region', 'an AWS region looks like eu-west-1', 'pass a region such as us-east-1');
}

export function checkWorkGroup(value: string): string {
  return check(
    value,
    WORK_GROUP,
    '--work-group',
    'an Athena work group name is letters, digits, dots, underscores and hyphens',
    'pass an existing work group, e.g. primary',
  );
}

export function checkRunName(value: string): string {
  return check(
    value,
    RUN_NAME,
    '--run-name',
    'a run name is up to 48 letters, digits, dots, underscores and hyphens',
    'pass something like --run-name rerun-2',
  );
}

/** `s3://bucket/prefix/` with a valid bucket; the prefix may be empty. */
export function checkS3Uri(value: string, flag: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(value);
  if (!m)
    throw usageError(
      `${flag} '${value}' is not an S3 location`,
      'it must start with s3://',
      `pass it like ${flag} s3://my-bucket/some/prefix/`,
    );
  return { bucket: checkBucket(m[1]!, flag), key: m[2]! };
}

export function positiveInt(value: string, flag: string, max = Number.MAX_SAFE_INTEGER, min = 1): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw usageError(`${flag} '${value}' is not valid`, `it must be a whole number from ${min} to ${max}`, `pass e.g. ${flag} ${min}`);
  }
  return n;
}
