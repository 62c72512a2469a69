/** The Athena client (COATTAIL_ATHENA_ENDPOINT sets an endpoint: a VPC endpoint, or a local stand-in in tests). */
import { AthenaClient } from '@aws-sdk/client-athena';
import { standInCredentials } from './credentials.js';
import { httpHandler, type ClientOptions } from './clients.js';

export function createAthenaClient(opts: ClientOptions, env: NodeJS.ProcessEnv): AthenaClient {
  const endpoint = env.COATTAIL_ATHENA_ENDPOINT;
  const credentials = standInCredentials({ endpoint }, env);
  return new AthenaClient({
    ...(opts.region ? { region: opts.region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: 3,
    requestHandler: httpHandler(),
  });
}
