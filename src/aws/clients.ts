/**
 * SDK clients for EMR Serverless, S3 and STS (Athena's is in src/aws/athena.ts), with explicit timeouts.
 * The endpoint comes from endpoint.ts (COATTAIL_EMR_ENDPOINT / COATTAIL_S3_ENDPOINT, then the SDK's
 * AWS_ENDPOINT_URL variables): a VPC endpoint, or a local stand-in in tests. S3 then uses path-style
 * addressing, which such endpoints need.
 */
import { EMRServerlessClient } from '@aws-sdk/client-emr-serverless';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { baseClientConfig, type AwsClientOptions } from './client-config.js';

export type ClientOptions = Pick<AwsClientOptions, 'region' | 'profile' | 'endpoint'>;

export function httpHandler(): NodeHttpHandler {
  return new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 60_000, throwOnRequestTimeout: true });
}

export function createEmrClient(opts: ClientOptions, env: NodeJS.ProcessEnv): EMRServerlessClient {
  return new EMRServerlessClient({ ...baseClientConfig('emr', opts, env), maxAttempts: 3, requestHandler: httpHandler() });
}

export function createS3Client(opts: ClientOptions, env: NodeJS.ProcessEnv): S3Client {
  const base = baseClientConfig('s3', opts, env);
  return new S3Client({
    ...base,
    ...(base.endpoint ? { forcePathStyle: true } : {}),
    maxAttempts: 3,
    requestHandler: httpHandler(),
  });
}

export function createStsClient(opts: ClientOptions, env: NodeJS.ProcessEnv): STSClient {
  return new STSClient({ ...baseClientConfig('sts', opts, env), maxAttempts: 2, requestHandler: httpHandler() });
}
