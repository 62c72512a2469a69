/**
 * A client's endpoint: ours first (a flag, or COATTAIL_<SERVICE>_ENDPOINT), then the SDK's standard
 * variables, the service-specific AWS_ENDPOINT_URL_<SERVICE> and the global AWS_ENDPOINT_URL. The SDK
 * reads its own variables too, but we resolve them here and pass the result, because the stand-in
 * credentials (credentials.ts) and S3's path-style addressing depend on knowing the endpoint.
 */
import { flagOrEnv, type Sourced } from './sourced.js';

/** Each service coattail calls: our variable, and the SDK's suffix (its service id, upper case, spaces as _). */
export const SERVICE_ENDPOINTS = {
  kinesis: { ours: 'COATTAIL_KINESIS_ENDPOINT', sdk: 'KINESIS' },
  dynamodb: { ours: 'COATTAIL_DYNAMODB_ENDPOINT', sdk: 'DYNAMODB' },
  s3: { ours: 'COATTAIL_S3_ENDPOINT', sdk: 'S3' },
  emr: { ours: 'COATTAIL_EMR_ENDPOINT', sdk: 'EMR_SERVERLESS' },
  athena: { ours: 'COATTAIL_ATHENA_ENDPOINT', sdk: 'ATHENA' },
  sts: { ours: 'COATTAIL_STS_ENDPOINT', sdk: 'STS' },
} as const;

export type AwsService = keyof typeof SERVICE_ENDPOINTS;

/** The endpoint for `service`: the flag or our variable, then AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL; none means AWS's own. */
export function resolveEndpoint(service: AwsService, flag: string | undefined, env: NodeJS.ProcessEnv): Sourced | undefined {
  const names = SERVICE_ENDPOINTS[service];
  const ours = flagOrEnv(flag, names.ours, env);
  if (ours) return ours;
  // As the SDKs do: this switch turns off the AWS_ENDPOINT_URL variables (ours stay).
  if (/^true$/i.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '')) return undefined;
  return flagOrEnv(undefined, `AWS_ENDPOINT_URL_${names.sdk}`, env) ?? flagOrEnv(undefined, 'AWS_ENDPOINT_URL', env);
}
