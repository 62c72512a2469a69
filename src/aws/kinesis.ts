import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { baseClientConfig, type AwsClientOptions } from './client-config.js';
import { resolveEndpoint } from './endpoint.js';

export type { AwsClientOptions } from './client-config.js';

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
  const endpoint = opts.endpoint ?? resolveEndpoint('kinesis', undefined, env)?.value;
  return new KinesisClient({
    ...baseClientConfig('kinesis', { ...opts, endpoint }, env),
    // Our writer retries failed entries itself; the SDK retries whole calls on transport errors.
    maxAttempts: opts.maxAttempts ?? 3,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: opts.requestTimeoutMs ?? defaultRequestTimeoutMs(endpoint),
      throwOnRequestTimeout: true,
    }),
  });
}
