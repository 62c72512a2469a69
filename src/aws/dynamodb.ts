import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { standInCredentials } from './credentials.js';
import type { AwsClientOptions } from './kinesis.js';

/**
 * A DynamoDB client for AWS or, with an endpoint, the local DynamoDB-compatible store (dynalite).
 * HTTP/1.1 (`NodeHttpHandler`) with explicit timeouts, as for Kinesis, so a hung local store fails
 * a call instead of hanging the command.
 */
export function createDynamoClient(opts: AwsClientOptions, env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  const credentials = standInCredentials(opts, env);
  return new DynamoDBClient({
    region: opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: opts.maxAttempts ?? 3,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: opts.requestTimeoutMs ?? 30_000,
      throwOnRequestTimeout: true,
    }),
  });
}
