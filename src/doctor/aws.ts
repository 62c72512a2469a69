/**
 * The checks of the AWS side, with the settings in force (src/config/effective.ts): the credentials
 * (sts:GetCallerIdentity), the stream, the alert table, the EMR Serverless application and the bucket.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetApplicationCommand } from '@aws-sdk/client-emr-serverless';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { createKinesisClient } from '../aws/kinesis.js';
import { createDynamoClient } from '../aws/dynamodb.js';
import { createEmrClient, createS3Client, createStsClient } from '../aws/clients.js';
import type { EffectiveSettings } from '../config/effective.js';
import { pass, runCheck, skip, type CheckResult } from './check.js';

export const AWS_CHECKS = ['aws credentials', 'stream', 'alert table', 'emr application', 'bucket'] as const;

interface Destroyable {
  destroy(): void;
}

async function using<C extends Destroyable, T>(client: C, body: (c: C) => Promise<T>): Promise<T> {
  try {
    return await body(client);
  } finally {
    client.destroy();
  }
}

export async function checkAws(settings: EffectiveSettings, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CheckResult[]> {
  const { region, profile } = settings.target;
  if (!region) return AWS_CHECKS.map((c) => skip(c, 'no region (pass --region, set AWS_REGION or a profile region)'));
  const place = { region: region.value, profile: profile?.value, maxAttempts: 1 };
  const where = profile ? `--profile ${profile.value}` : 'the default credentials';
  const credentialsFix = profile
    ? `run aws configure --profile ${profile.value} (or aws sso login --profile ${profile.value})`
    : 'run aws configure, set AWS_PROFILE, or pass --profile';
  const who = await runCheck('aws credentials', timeoutMs, credentialsFix, (signal) =>
    using(createStsClient(place, env), async (sts) => {
      const id = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal });
      return pass(
        'aws credentials',
        `${id.Arn ?? 'unknown identity'} (account ${id.Account ?? '?'}) via ${settings.credentials}, in ${region.value}`,
      );
    }),
  );
  if (!who.ok) return [who, ...AWS_CHECKS.slice(1).map((c) => skip(c, `no credentials (${where})`))];

  const stream = settings.value('stream')!;
  const table = settings.value('alertsTable')!;
  const applicationId = settings.value('applicationId');
  const bucket = settings.value('bucket');
  return [
    who,
    ...(await Promise.all([
      runCheck(
        'stream',
        timeoutMs,
        `create it (deploy/), or set "stream" / COATTAIL_STREAM to the right name in ${region.value}`,
        (signal) =>
          using(createKinesisClient(place, env), async (k) => {
            const out = await k.send(new DescribeStreamSummaryCommand({ StreamName: stream }), { abortSignal: signal });
            const s = out.StreamDescriptionSummary;
            return pass('stream', `${stream}: ${s?.StreamStatus ?? '?'}, ${s?.OpenShardCount ?? '?'} open shard(s)`);
          }),
      ),
      runCheck('alert table', timeoutMs, `create it (deploy/), or set "alertsTable" / COATTAIL_ALERTS_TABLE in ${region.value}`, (signal) =>
        using(createDynamoClient(place, env), async (d) => {
          const out = await d.send(new DescribeTableCommand({ TableName: table }), { abortSignal: signal });
          return pass('alert table', `${table}: ${out.Table?.TableStatus ?? '?'}`);
        }),
      ),
      applicationId === undefined
        ? Promise.resolve(skip('emr application', 'no applicationId (--application-id, COATTAIL_EMR_APPLICATION_ID or the config file)'))
        : runCheck(
            'emr application',
            timeoutMs,
            `check "applicationId" / COATTAIL_EMR_APPLICATION_ID and the region ${region.value}`,
            (signal) =>
              using(createEmrClient(place, env), async (e) => {
                const out = await e.send(new GetApplicationCommand({ applicationId }), { abortSignal: signal });
                const app = out.application;
                return pass('emr application', `${applicationId} (${app?.name ?? '?'}): ${app?.state ?? '?'}, ${app?.releaseLabel ?? '?'}`);
              }),
          ),
      bucket === undefined
        ? Promise.resolve(skip('bucket', 'no bucket (--bucket, COATTAIL_BUCKET or the config file)'))
        : runCheck('bucket', timeoutMs, `check "bucket" / COATTAIL_BUCKET, and that ${where} may read it`, (signal) =>
            using(createS3Client(place, env), async (s3) => {
              await s3.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
              return pass('bucket', `s3://${bucket} reachable`);
            }),
          ),
    ])),
  ];
}
