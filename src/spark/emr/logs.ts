/**
 * The driver's logs of a job run, from the run's S3 log location:
 * `<logUri>applications/<application>/jobs/<run>/SPARK_DRIVER/{stdout,stderr}.gz` (the layout in the EMR
 * Serverless samples). While a run runs the service uploads them in batches, so a read may find nothing yet
 * or a gzip stream cut mid-block; what decodes is shown.
 */
import { constants, gunzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { JobRun } from '@aws-sdk/client-emr-serverless';
import { CoattailError } from '../../core/errors.js';
import { awsFailure, isNotFound } from '../../aws/errors.js';

export type DriverLog = 'stdout' | 'stderr';

export interface LogLocation {
  bucket: string;
  /** Key prefix of the run's driver logs, ending in `SPARK_DRIVER/`. */
  prefix: string;
}

/** Where a run's driver logs are, from the log location it was submitted with. */
export function driverLogLocation(run: JobRun): LogLocation {
  const logUri = run.configurationOverrides?.monitoringConfiguration?.s3MonitoringConfiguration?.logUri;
  const m = logUri ? /^s3:\/\/([^/]+)\/?(.*)$/.exec(logUri) : null;
  if (!m) {
    throw new CoattailError(
      `job run ${run.jobRunId} has no S3 log location`,
      'it was submitted without s3MonitoringConfiguration',
      'open its Spark UI or CloudWatch logs instead (runs submitted by coattail always log to S3)',
    );
  }
  const base = m[2]!.length === 0 || m[2]!.endsWith('/') ? m[2]! : `${m[2]!}/`;
  return { bucket: m[1]!, prefix: `${base}applications/${run.applicationId}/jobs/${run.jobRunId}/SPARK_DRIVER/` };
}

export function logUri(loc: LogLocation, which: DriverLog): string {
  return `s3://${loc.bucket}/${loc.prefix}${which}.gz`;
}

/** Gunzips what is there, tolerating a stream that ends mid-way (an upload in progress). */
export function gunzipPartial(data: Uint8Array): string {
  if (data.length === 0) return '';
  return gunzipSync(data, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
}

/** The log's text, or undefined when it is not (yet) in S3. */
export async function readDriverLog(s3: S3Client, loc: LogLocation, which: DriverLog, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const key = `${loc.prefix}${which}.gz`;
  let bytes: Uint8Array;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key }));
    bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw awsFailure(err, `cannot read the driver's ${which} (${logUri(loc, which)})`, env);
  }
  try {
    return gunzipPartial(bytes);
  } catch (err) {
    throw awsFailure(
      err,
      `cannot decompress the driver's ${which} (${logUri(loc, which)})`,
      env,
      'try again: the log may be being rewritten',
    );
  }
}

export function lastLines(text: string, n: number): string {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines
    .slice(Math.max(0, lines.length - n))
    .map((l) => `${l}\n`)
    .join('');
}
