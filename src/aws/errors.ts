/**
 * Every AWS failure becomes one CoattailError line with the service's own reason
 * ("AccessDeniedException: User ... is not authorized to perform ..."). Credential values from the
 * environment are masked should any text ever carry one, so no error line can print a secret.
 */
import { CoattailError, errorMessage } from '../core/errors.js';

const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

interface ServiceErrorShape {
  name?: string;
  message?: string;
  Code?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Masks the values of the credential variables (and anything shaped like an access key id). */
export function maskCredentials(text: string, env: NodeJS.ProcessEnv): string {
  let out = text;
  for (const name of CREDENTIAL_VARIABLES) {
    const value = env[name];
    if (value && value.length >= 4) out = out.split(value).join('****');
  }
  return out.replace(/\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g, '****');
}

/** `Name: reason`, one line, from an SDK error (service errors, network errors, missing credentials). */
export function serviceReason(err: unknown): string {
  const e = (err ?? {}) as ServiceErrorShape;
  const name = e.name && e.name !== 'Error' ? e.name : (e.Code ?? e.code);
  let message = err instanceof Error ? err.message : errorMessage(err);
  const status = e.$metadata?.httpStatusCode;
  // S3 answers HEAD requests without a body: the SDK's message is then only the status.
  if (!message || message === 'UnknownError' || message === name) message = status ? `HTTP ${status}` : 'no reason given';
  // One line, without a closing period: the error line adds its own punctuation.
  const line = message.split('\n')[0]!.trim().replace(/\.$/, '');
  return name && !line.startsWith(`${name}:`) ? `${name}: ${line}` : line;
}

/** The one-line error for an AWS call that failed: what was being done, the service's reason, what to do. */
export function awsFailure(err: unknown, what: string, env: NodeJS.ProcessEnv, fix?: string): CoattailError {
  if (err instanceof CoattailError) return err;
  const reason = maskCredentials(serviceReason(err), env);
  return new CoattailError(what, reason, fix ?? hint(err));
}

function hint(err: unknown): string {
  const e = (err ?? {}) as ServiceErrorShape;
  const name = e.name ?? '';
  if (name === 'CredentialsProviderError')
    return 'configure AWS credentials (AWS_PROFILE, or the AWS_ACCESS_KEY_ID variables, or an instance role)';
  if (/AccessDenied|Forbidden|UnauthorizedOperation|UnrecognizedClient|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken/i.test(name)) {
    return 'check that the credentials in use are current and allowed to do this (see docs/DEPLOY.md for the permissions)';
  }
  if (/ResourceNotFound|NoSuchBucket|NotFound/.test(name))
    return 'check the ids and names given (flags, environment, coattail.config.json)';
  if (/Throttl|TooManyRequests|ServiceUnavailable|InternalServer/.test(name)) return 'try again in a minute';
  if (/Region/i.test(errorMessage(err))) return 'pass --region (or set AWS_REGION)';
  return 'check the settings and your network, then try again';
}

/** True when an S3 (or other) error means "no such object". */
export function isNotFound(err: unknown): boolean {
  const e = (err ?? {}) as ServiceErrorShape;
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}
