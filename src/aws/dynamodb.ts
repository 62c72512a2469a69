import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { baseClientConfig, type AwsClientOptions } from './client-config.js';

/**
 * A DynamoDB client for AWS or, with an endpoint, the local DynamoDB-compatible store (dynalite).
 * HTTP/1.1 (`NodeHttpHandler`) with explicit timeouts, as for Kinesis, so a hung local store fails
 * a call instead of hanging the command.
 */
export function createDynamoClient(opts: AwsClientOptions, env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  return new DynamoDBClient({
    ...baseClientConfig('dynamodb', opts, env),
    maxAttempts: opts.maxAttempts ?? 3,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: opts.requestTimeoutMs ?? 30_000,
      throwOnRequestTimeout: true,
    }),
  });
}
