/**
 * SDK clients for EMR Serverless and S3 (Athena's is in src/aws/athena.ts), with explicit timeouts. An
 * endpoint can be set through COATTAIL_EMR_ENDPOINT / COATTAIL_S3_ENDPOINT (a VPC endpoint, or a local stand-in
 * in tests); S3 then uses path-style addressing, which such endpoints need.
 */
import { EMRServerlessClient } from '@aws-sdk/client-emr-serverless';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { standInCredentials } from './credentials.js';

export interface ClientOptions {
  region?: string | undefined;
}

export function httpHandler(): NodeHttpHandler {
  return new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 60_000, throwOnRequestTimeout: true });
}

export function createEmrClient(opts: ClientOptions, env: NodeJS.ProcessEnv): EMRServerlessClient {
  const endpoint = env.COATTAIL_EMR_ENDPOINT;
  const credentials = standInCredentials({ endpoint }, env);
  return new EMRServerlessClient({
    ...(opts.region ? { region: opts.region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: 3,
    requestHandler: httpHandler(),
  });
}

export function createS3Client(opts: ClientOptions, env: NodeJS.ProcessEnv): S3Client {
  const endpoint = env.COATTAIL_S3_ENDPOINT;
  const credentials = standInCredentials({ endpoint }, env);
  return new S3Client({
    ...(opts.region ? { region: opts.region } : {}),
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: 3,
    requestHandler: httpHandler(),
  });
}
