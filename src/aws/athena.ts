/** The Athena client (COATTAIL_ATHENA_ENDPOINT or AWS_ENDPOINT_URL_ATHENA sets an endpoint: a VPC endpoint, or a local stand-in in tests). */
import { AthenaClient } from '@aws-sdk/client-athena';
import { baseClientConfig } from './client-config.js';
import { httpHandler, type ClientOptions } from './clients.js';

export function createAthenaClient(opts: ClientOptions, env: NodeJS.ProcessEnv): AthenaClient {
  return new AthenaClient({ ...baseClientConfig('athena', opts, env), maxAttempts: 3, requestHandler: httpHandler() });
}
