/**
 * The credentials each client factory's client resolves, read at the SDK boundary
 * (`client.config.credentials()`): stand-ins for the local emulators only, the SDK's default chain for
 * every other endpoint. The ECS task role is a real HTTP server on loopback answering as the container
 * credentials endpoint does (AWS_CONTAINER_CREDENTIALS_FULL_URI).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLoopbackEndpoint } from '../../src/aws/credentials.js';
import { resolveRegion } from '../../src/aws/region.js';
import { createDynamoClient } from '../../src/aws/dynamodb.js';
import { createKinesisClient } from '../../src/aws/kinesis.js';
import { createAthenaClient } from '../../src/aws/athena.js';
import { createEmrClient, createS3Client } from '../../src/aws/clients.js';

const VPCE = 'https://vpce-123.kinesis.us-east-1.vpce.amazonaws.com';
const STAND_INS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Every source the default chain could find credentials in on this machine, cleared or pointed nowhere. */
const CHAIN_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'AWS_EC2_METADATA_DISABLED',
];
let saved: Record<string, string | undefined> = {};

beforeEach(() => {
  saved = Object.fromEntries(CHAIN_VARIABLES.map((k) => [k, process.env[k]]));
  for (const k of CHAIN_VARIABLES) delete process.env[k];
  const nowhere = path.join(os.tmpdir(), 'coattail-no-such-aws-dir');
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(nowhere, 'credentials');
  process.env.AWS_CONFIG_FILE = path.join(nowhere, 'config');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});

afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

interface Resolving {
  config: { credentials: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }> };
  destroy(): void;
}

/** Every factory, with the endpoint set the way that factory takes it. */
const FACTORIES: Array<[string, (endpoint: string, local?: boolean) => Resolving]> = [
  ['kinesis', (endpoint, local) => createKinesisClient({ endpoint, region: 'us-east-1', local }, process.env)],
  ['dynamodb', (endpoint, local) => createDynamoClient({ endpoint, region: 'us-east-1', local }, process.env)],
  ['emr-serverless', (endpoint) => createEmrClient({ region: 'us-east-1' }, { ...process.env, COATTAIL_EMR_ENDPOINT: endpoint })],
  ['s3', (endpoint) => createS3Client({ region: 'us-east-1' }, { ...process.env, COATTAIL_S3_ENDPOINT: endpoint })],
  ['athena', (endpoint) => createAthenaClient({ region: 'us-east-1' }, { ...process.env, COATTAIL_ATHENA_ENDPOINT: endpoint })],
];

async function resolved(client: Resolving): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }> {
  try {
    return await client.config.credentials();
  } finally {
    client.destroy();
  }
}

async function failure(client: Resolving): Promise<Error> {
  const err = await resolved(client).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('loopback endpoints', () => {
  it.each([
    ['http://127.0.0.1:4568', true],
    ['http://127.12.0.7:8000', true],
    ['http://localhost:8000', true],
    ['http://LOCALHOST:8000', true],
    ['http://[::1]:4568', true],
    ['http://[::ffff:127.0.0.1]:4568', true],
    [VPCE, false],
    ['http://10.0.0.5:4568', false],
    ['http://128.0.0.1:4568', false],
    ['http://127.0.0.1.nip.io:4568', false],
    ['http://localhost.example.com:8000', false],
    ['http://[::2]:4568', false],
    ['not a url', false],
  ])('%s: %s', (endpoint, loopback) => {
    expect(isLoopbackEndpoint(endpoint)).toBe(loopback);
  });
});

describe.each(FACTORIES)('the %s client', (_name, make) => {
  it.each(['http://127.0.0.1:4568', 'http://localhost:8000', 'http://[::1]:4568'])(
    'signs for %s with the stand-ins when nothing is configured',
    async (endpoint) => {
      expect(await resolved(make(endpoint))).toMatchObject(STAND_INS);
    },
  );

  it('a VPC endpoint without configured credentials gets none made up: the default chain fails', async () => {
    const err = await failure(make(VPCE));
    expect(err.name).toBe('CredentialsProviderError');
  });

  it('a VPC endpoint signs with the credentials of the environment', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAVPCETEST0000001';
    process.env.AWS_SECRET_ACCESS_KEY = 'vpce-secret';
    expect(await resolved(make(VPCE))).toMatchObject({ accessKeyId: 'AKIAVPCETEST0000001', secretAccessKey: 'vpce-secret' });
  });

  it("a loopback endpoint signs with the user's credentials when they are configured (a tunnel to AWS)", async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIATUNNEL000000001';
    process.env.AWS_SECRET_ACCESS_KEY = 'tunnel-secret';
    expect(await resolved(make('http://127.0.0.1:4568'))).toMatchObject({
      accessKeyId: 'AKIATUNNEL000000001',
      secretAccessKey: 'tunnel-secret',
    });
  });
});

describe('an ECS task role behind a VPC endpoint', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it.each(FACTORIES)('the %s client signs with the task role from the container credentials endpoint', async (_name, make) => {
    let requests = 0;
    server = createServer((_req, res) => {
      requests += 1;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          AccessKeyId: 'ASIATASKROLE0000001',
          SecretAccessKey: 'task-secret',
          Token: 'task-token',
          Expiration: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      );
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/credentials/task`;
    expect(await resolved(make(VPCE))).toMatchObject({
      accessKeyId: 'ASIATASKROLE0000001',
      secretAccessKey: 'task-secret',
      sessionToken: 'task-token',
    });
    expect(requests).toBeGreaterThan(0);
  });
});

describe('--local', () => {
  it.each(FACTORIES.slice(0, 2))('the %s client uses the stand-ins, never the user’s credentials', async (_name, make) => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAUSER00000000001';
    process.env.AWS_SECRET_ACCESS_KEY = 'user-secret';
    expect(await resolved(make('http://127.0.0.1:4568', true))).toMatchObject(STAND_INS);
  });
});

describe('--profile (coattail tail)', () => {
  function profileFiles(): void {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coattail-profile-'));
    writeFileSync(path.join(dir, 'config'), '[profile prod]\nregion = eu-west-3\n');
    writeFileSync(path.join(dir, 'credentials'), '[prod]\naws_access_key_id = AKIAPRODEXAMPLE00001\naws_secret_access_key = prod-secret\n');
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
  }

  it("signs with the profile's credentials and takes its region when none is given", async () => {
    profileFiles();
    const region = await resolveRegion({ profile: { value: 'prod', source: 'flag' } }, process.env);
    expect(region).toEqual({ value: 'eu-west-3', source: 'profile (prod)' });
    const client = createKinesisClient({ profile: 'prod', region: region!.value }, process.env);
    expect(await client.config.region()).toBe('eu-west-3');
    expect(await resolved(client)).toMatchObject({ accessKeyId: 'AKIAPRODEXAMPLE00001', secretAccessKey: 'prod-secret' });
  });

  it('counts as configured credentials for a loopback endpoint (a tunnel), but never for --local', async () => {
    profileFiles();
    const tunnel = createKinesisClient({ profile: 'prod', endpoint: 'http://127.0.0.1:4568', region: 'us-east-1' }, process.env);
    expect(await resolved(tunnel)).toMatchObject({ accessKeyId: 'AKIAPRODEXAMPLE00001' });
    const local = createKinesisClient({ profile: 'prod', endpoint: 'http://127.0.0.1:4568', local: true }, process.env);
    expect(await resolved(local)).toMatchObject(STAND_INS);
  });
});
