import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { standInCredentials } from './credentials.js';

export interface AwsClientOptions {
  region?: string | undefined;
  /** A local emulator's endpoint (http://127.0.0.1:4568) or a VPC endpoint; unset for AWS. */
  endpoint?: string | undefined;
  /** Against the local emulators: stand-in credentials, never the user's (see credentials.ts). */
  local?: boolean | undefined;
  /** The AWS profile to sign with (~/.aws/config), instead of AWS_PROFILE. */
  profile?: string | undefined;
  maxAttempts?: number;
  /** A call with no answer within this long fails (and is retried) instead of waiting forever. */
  requestTimeoutMs?: number;
}

/**
 * AWS answers a 5 MiB PutRecords in well under a second; the JavaScript Kinesis emulator can take over
 * 30 s for one, so endpoints (emulators) get a longer limit before a call is abandoned and resent.
 */
export function defaultRequestTimeoutMs(endpoint: string | undefined): number {
  return endpoint ? 120_000 : 30_000;
}

/**
 * A Kinesis client for PutRecords and the control plane. The default HTTP/2 handler fails against the
 * emulator's plain port, so HTTP/1.1 (`NodeHttpHandler`) is used for everything but SubscribeToShard.
 */
export function createKinesisClient(opts: AwsClientOptions, env: NodeJS.ProcessEnv = process.env): KinesisClient {
  // A profile chosen on the command line counts as configured credentials, as AWS_PROFILE does.
  const credentials = standInCredentials(opts, opts.profile ? { ...env, AWS_PROFILE: opts.profile } : env);
  return new KinesisClient({
    // With a profile, the SDK takes the region from it when none is given.
    ...regionOf(opts, env),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    ...(opts.profile && !credentials ? { profile: opts.profile } : {}),
    // Our writer retries failed entries itself; the SDK retries whole calls on transport errors.
    maxAttempts: opts.maxAttempts ?? 3,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: opts.requestTimeoutMs ?? defaultRequestTimeoutMs(opts.endpoint),
      throwOnRequestTimeout: true,
    }),
  });
}

function regionOf(opts: AwsClientOptions, env: NodeJS.ProcessEnv): { region?: string } {
  const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region) return { region };
  return opts.profile ? {} : { region: 'us-east-1' };
}
