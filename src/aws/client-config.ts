/**
 * What every client factory shares: the endpoint (endpoint.ts), the credentials (stand-ins for the local
 * emulators, else the profile or the SDK's default chain) and the region, which the command has resolved
 * by the one region rule (region.ts) — a factory never picks one itself, except the emulators' fixed one.
 */
import { standInCredentials, type STAND_IN_CREDENTIALS } from './credentials.js';
import { resolveEndpoint, type AwsService } from './endpoint.js';
import { LOCAL_REGION, noRegion } from './region.js';

export interface AwsClientOptions {
  /** The region in force (resolveRegion); may be unset only for the local emulators. */
  region?: string | undefined;
  /** A local emulator's endpoint (http://127.0.0.1:4568) or a VPC endpoint; unset: the variables, then AWS. */
  endpoint?: string | undefined;
  /** Against the local emulators: stand-in credentials, never the user's (see credentials.ts). */
  local?: boolean | undefined;
  /** The AWS profile to sign with (~/.aws/config), instead of AWS_PROFILE. */
  profile?: string | undefined;
  maxAttempts?: number;
  /** A call with no answer within this long fails (and is retried) instead of waiting forever. */
  requestTimeoutMs?: number;
}

export interface BaseClientConfig {
  region: string;
  endpoint?: string;
  credentials?: typeof STAND_IN_CREDENTIALS;
  profile?: string;
}

export function baseClientConfig(service: AwsService, opts: AwsClientOptions, env: NodeJS.ProcessEnv): BaseClientConfig {
  const endpoint = opts.endpoint ?? resolveEndpoint(service, undefined, env)?.value;
  // A profile chosen on the command line or in the config file counts as configured credentials, as AWS_PROFILE does.
  const credentials = standInCredentials({ endpoint, local: opts.local }, opts.profile ? { ...env, AWS_PROFILE: opts.profile } : env);
  const region = opts.region ?? (credentials ? LOCAL_REGION : undefined);
  if (region === undefined) throw noRegion();
  return {
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    ...(opts.profile && !credentials ? { profile: opts.profile } : {}),
  };
}
