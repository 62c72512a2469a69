/** What a failed Query means for `coattail watch`: wait and retry, or stop with one clear line. */
import { CoattailError, errorMessage } from '../core/errors.js';
import { ALERTS_BY_TYPE_TIME_INDEX } from '../local/resources.js';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

interface SdkError {
  name?: string;
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
}

function sdk(err: unknown): SdkError {
  return typeof err === 'object' && err !== null ? (err as SdkError) : {};
}

export function isThrottling(err: unknown): boolean {
  const e = sdk(err);
  return THROTTLING.has(e.name ?? '') || e.$retryable?.throttling === true;
}

/** A mistake no retry fixes: no such table or index, no permission, bad credentials. */
export function isPermanent(err: unknown): boolean {
  return sdk(err).$fault === 'client' && !isThrottling(err);
}

export interface WatchTarget {
  table: string;
  /** `http://127.0.0.1:8000` or `region us-east-1`. */
  where: string;
  /** True for a local store (an endpoint was given or found), where `coattail local up` is the fix. */
  local: boolean;
}

/** The one line the user sees when watching cannot go on. */
export function watchError(err: unknown, target: WatchTarget): CoattailError {
  if (err instanceof CoattailError) return err;
  const name = sdk(err).name ?? '';
  const reason = errorMessage(err).split('\n')[0] ?? name;
  if (name === 'ResourceNotFoundException') {
    return new CoattailError(
      `alert table '${target.table}' not found`,
      target.local ? `no such table at ${target.where}` : `${reason} (${target.where})`,
      target.local ? "run 'coattail local up' (or pass --table)" : 'deploy the alert table there, or pass --table / --region',
    );
  }
  if (name === 'ValidationException' && reason.includes(ALERTS_BY_TYPE_TIME_INDEX)) {
    return new CoattailError(
      `alert table '${target.table}' has no index ${ALERTS_BY_TYPE_TIME_INDEX}`,
      reason,
      target.local
        ? "delete the table and run 'coattail local up' to recreate it"
        : `add the ${ALERTS_BY_TYPE_TIME_INDEX} index (alert_type, alert_time) to the table`,
    );
  }
  return new CoattailError(
    `cannot read alerts from DynamoDB at ${target.where}`,
    reason,
    target.local ? "check 'coattail local status' or --dynamodb-endpoint" : 'check --region, --dynamodb-endpoint and your AWS credentials',
  );
}
