/**
 * What a failed PutRecords means for the producer: resend later (transient or throttled), or stop
 * (the stream, the credentials or the request itself is wrong, and resending cannot help).
 */
import { CoattailError, errorMessage } from '../core/errors.js';

export type FailureKind = 'retry' | 'throttle' | 'fatal';

export interface Failure {
  kind: FailureKind;
  /** The service's error name or the socket's error code: `ResourceNotFoundException`, `ECONNREFUSED`. */
  code: string;
  message: string;
}

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'KMSThrottlingException',
  'ThrottlingException',
  'Throttling',
  'LimitExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
]);

const FATAL = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'AccessDenied',
  'ValidationException',
  'InvalidArgumentException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'ExpiredTokenException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KMSOptInRequired',
]);

// JavaScript's own errors thrown from inside the client mean a bug, which resending would only repeat.
const PROGRAMMING = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

interface ServiceErrorShape {
  name?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

/** Classifies a whole-call failure (the SDK rejected the PutRecords promise). */
export function classifyCallError(err: unknown): Failure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ServiceErrorShape;
  const name = e.name ?? 'Error';
  const code = typeof e.code === 'string' && e.code !== '' ? e.code : name;
  const message = oneLine(errorMessage(err));
  const failure = (kind: FailureKind): Failure => ({ kind, code, message });
  if (THROTTLING.has(name)) return failure('throttle');
  if (FATAL.has(name)) return failure('fatal');
  const status = e.$metadata?.httpStatusCode;
  if (status === 429) return failure('throttle');
  if (e.$fault === 'server' || (status !== undefined && status >= 500) || status === 408) return failure('retry');
  // Any other 4xx answer from the service: the request itself is wrong, resending cannot fix it.
  if (e.$fault === 'client' || (status !== undefined && status >= 400)) return failure('fatal');
  if (PROGRAMMING.has(name)) return failure('fatal');
  // No answer from the service at all: refused, reset, timed out, DNS... The endpoint may come back.
  return failure('retry');
}

/** Classifies one entry's ErrorCode in a PutRecords response that partly failed. */
export function classifyEntryError(errorCode: string, errorMessage: string | undefined): Failure {
  const message = oneLine(errorMessage ?? errorCode);
  if (THROTTLING.has(errorCode)) return { kind: 'throttle', code: errorCode, message };
  if (FATAL.has(errorCode)) return { kind: 'fatal', code: errorCode, message };
  // InternalFailure and anything not documented yet: resend until the retry deadline.
  return { kind: 'retry', code: errorCode, message };
}

export interface StreamTarget {
  streamName: string;
  region: string;
}

/** The one-line error a user sees when writing cannot go on: what, why, what to do. */
export function fatalWriteError(failure: Failure, target: StreamTarget): CoattailError {
  const what = `cannot write to Kinesis stream '${target.streamName}'`;
  const detail = `${failure.code}: ${failure.message}`;
  switch (failure.code) {
    case 'ResourceNotFoundException':
      return new CoattailError(
        what,
        `the stream was not found in region ${target.region} (${detail})`,
        `Create it (aws kinesis create-stream --stream-name ${target.streamName}), or run 'coattail local up' and ingest with --local`,
      );
    case 'AccessDeniedException':
    case 'AccessDenied':
      return new CoattailError(what, `access was denied (${detail})`, 'Grant these credentials kinesis:PutRecords on the stream');
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'IncompleteSignature':
    case 'MissingAuthenticationToken':
    case 'ExpiredTokenException':
      return new CoattailError(
        what,
        `the AWS credentials were rejected (${detail})`,
        'Check AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or sign in again if the session expired',
      );
    default:
      if (failure.code.startsWith('KMS')) {
        return new CoattailError(
          what,
          `the stream's KMS key cannot be used (${detail})`,
          "Check the key's state and that these credentials may use it",
        );
      }
      return new CoattailError(
        what,
        `Kinesis rejected the request and resending cannot help (${detail})`,
        'Check the stream name, region and endpoint; run with --verbose and report it if it persists',
      );
  }
}
