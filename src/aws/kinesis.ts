import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface AwsClientOptions {
  region?: string | undefined;
  /** A local emulator's endpoint (http://127.0.0.1:4568); unset for AWS. */
  endpoint?: string | undefined;
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

/** Credentials the local emulators accept; used only when an endpoint is set and none are configured. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export function localCredentialsIfNeeded(endpoint: string | undefined, env: NodeJS.ProcessEnv) {
  if (!endpoint) return undefined;
  if (env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE) return undefined;
  return LOCAL_CREDENTIALS;
}

/**
 * A Kinesis client for PutRecords and the control plane. The default HTTP/2 handler fails against the
 * emulator's plain port, so HTTP/1.1 (`NodeHttpHandler`) is used for everything but SubscribeToShard.
 */
export function createKinesisClient(opts: AwsClientOptions, env: NodeJS.ProcessEnv = process.env): KinesisClient {
  const credentials = localCredentialsIfNeeded(opts.endpoint, env);
  return new KinesisClient({
    region: opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    // Our writer retries failed entries itself; the SDK retries whole calls on transport errors.
    maxAttempts: opts.maxAttempts ?? 3,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: opts.requestTimeoutMs ?? defaultRequestTimeoutMs(opts.endpoint),
      throwOnRequestTimeout: true,
    }),
  });
}
