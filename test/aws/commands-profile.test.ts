/**
 * The clients each command builds, read at the SDK boundary: the region and the credentials they really
 * resolve from a temporary ~/.aws, with the profile given as a flag, in AWS_PROFILE or in the config file.
 * Each command's first call is answered with "not found", which ends it; the call's client is then asked.
 */
import { ListJobRunsCommand, EMRServerlessClient, ResourceNotFoundException as EmrNotFound } from '@aws-sdk/client-emr-serverless';
import { KinesisClient, ResourceNotFoundException } from '@aws-sdk/client-kinesis';
import { DynamoDBClient, ResourceNotFoundException as TableNotFound } from '@aws-sdk/client-dynamodb';
import { S3Client, NoSuchBucket } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jobsList } from '../../src/commands/jobs/list.js';
import { tail } from '../../src/commands/tail.js';
import { watch } from '../../src/commands/watch.js';
import { ddlApply } from '../../src/commands/ddl.js';
import { testContext } from '../helpers/context.js';
import { KEY_IDS, PROFILE_REGIONS, SECRETS, useAwsHome, writeConfig } from '../helpers/aws-home.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

interface Resolving {
  config: { region(): Promise<string>; credentials(): Promise<{ accessKeyId: string; secretAccessKey: string }> };
}

async function signedAs(client: unknown): Promise<{ region: string; accessKeyId: string; secretAccessKey: string }> {
  const c = client as Resolving;
  const { accessKeyId, secretAccessKey } = await c.config.credentials();
  return { region: await c.config.region(), accessKeyId, secretAccessKey };
}

const PROD = { region: PROFILE_REGIONS.prod, accessKeyId: KEY_IDS.prod, secretAccessKey: SECRETS.prod };

/** How the profile is chosen: each command is run once per way. */
const WAYS = [
  ['--profile', (cwd: string) => ({ opts: { profile: 'prod' }, cwd })],
  ['AWS_PROFILE', (cwd: string) => (vi.stubEnv('AWS_PROFILE', 'prod'), { opts: { profile: 'prod' }, cwd })],
  ['the config file', (cwd: string) => (writeConfig(cwd, { profile: 'prod' }), { opts: {}, cwd })],
] as const;

describe.each(WAYS)('the profile from %s', (_how, choose) => {
  it('jobs list', async () => {
    const { cwd } = useAwsHome();
    const { opts } = choose(cwd);
    const emr = mockClient(EMRServerlessClient);
    emr.on(ListJobRunsCommand).rejects(new EmrNotFound({ message: 'no such application', $metadata: {} }));
    try {
      await jobsList({ ...opts, applicationId: '00fabc123def4567' }, testContext({ cwd, env: { ...process.env } })).catch(() => undefined);
      expect(await signedAs(emr.commandCalls(ListJobRunsCommand)[0]!.thisValue)).toEqual(PROD);
    } finally {
      emr.restore();
    }
  });

  it('tail', async () => {
    const { cwd } = useAwsHome();
    const { opts } = choose(cwd);
    const kinesis = mockClient(KinesisClient);
    kinesis.onAnyCommand().rejects(new ResourceNotFoundException({ message: 'no such stream', $metadata: {} }));
    try {
      await tail(
        { ...opts, from: 'latest', stateDir: '.coattail/local', exitAtEnd: true },
        testContext({ cwd, env: { ...process.env } }),
      ).catch(() => undefined);
      expect(await signedAs(kinesis.calls()[0]!.thisValue)).toEqual(PROD);
    } finally {
      kinesis.restore();
    }
  });

  it('watch', async () => {
    const { cwd } = useAwsHome();
    const { opts } = choose(cwd);
    const dynamo = mockClient(DynamoDBClient);
    dynamo.onAnyCommand().rejects(new TableNotFound({ message: 'Requested resource not found', $metadata: {} }));
    try {
      await watch(
        'whales',
        { ...opts, since: '15m', stateDir: '.coattail/local', intervalMs: '1000', json: true },
        testContext({ cwd, env: { ...process.env } }),
      ).catch(() => undefined);
      expect(await signedAs(dynamo.calls()[0]!.thisValue)).toEqual(PROD);
    } finally {
      dynamo.restore();
    }
  });

  it('ddl apply', async () => {
    const { cwd } = useAwsHome();
    const { opts } = choose(cwd);
    const s3 = mockClient(S3Client);
    s3.onAnyCommand().rejects(new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: {} }));
    try {
      await ddlApply({ ...opts, bucket: 'my-coattail', dryRun: true }, testContext({ cwd, env: { ...process.env } })).catch(
        () => undefined,
      );
      expect(await signedAs(s3.calls()[0]!.thisValue)).toEqual(PROD);
    } finally {
      s3.restore();
    }
  });
});
