/** What the `jobs submit` tests share: a tiny repository to bundle, the mocked EMR Serverless and S3 clients. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EMRServerlessClient, ListJobRunsCommand, type JobRun } from '@aws-sdk/client-emr-serverless';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll } from 'vitest';
import type { JobsDeps } from '../../src/spark/emr/settings.js';

export const APP = '00fabc123def4567';
export const ROLE = 'arn:aws:iam::123456789012:role/coattail-emr';
export const BUCKET = 'my-coattail';
export const RUN = '00fr1234abcd';
export const AWS_FLAGS = { applicationId: APP, executionRoleArn: ROLE, bucket: BUCKET, region: 'eu-west-1' };

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coattail-submit-'));
  tempDirs.push(dir);
  return dir;
}

/** A repository with a tiny jobs-py: the package, the entry script and an EMR SparkConf template. */
export function fakeRoot(): string {
  const root = tempDir();
  mkdirSync(path.join(root, 'jobs-py', 'coattail_jobs'), { recursive: true });
  writeFileSync(path.join(root, 'jobs-py', 'coattail_jobs', '__init__.py'), 'VERSION = 1\n');
  writeFileSync(path.join(root, 'jobs-py', 'emr_main.py'), 'main()\n');
  writeFileSync(
    path.join(root, 'jobs-py', 'emr-spark-conf.json'),
    JSON.stringify({
      'spark.jars': '/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar',
      'spark.sql.catalog.coattail.warehouse': 's3://${bucket}/warehouse',
    }),
  );
  return root;
}

/** Mocked clients, a fake repository and a working folder; polls never really wait. */
export function submitSetup() {
  const emr = new EMRServerlessClient({ region: 'eu-west-1' });
  const s3 = new S3Client({ region: 'eu-west-1' });
  const emrMock = mockClient(emr);
  const s3Mock = mockClient(s3);
  // No run of any job is active unless a test says so (a streaming submit looks first).
  emrMock.on(ListJobRunsCommand).resolves({ jobRuns: [] });
  const root = fakeRoot();
  const cwd = tempDir();
  const deps: JobsDeps = { emr, s3, root, sleep: async () => {}, pollMs: 1 };
  return { emr, s3, emrMock, s3Mock, root, cwd, deps };
}

/** GetJobRun's answer for our whale-detector run in `state`. */
export function jobRunOutput(state: string, extra: Partial<JobRun> = {}): { jobRun: JobRun } {
  return {
    jobRun: {
      applicationId: APP,
      jobRunId: RUN,
      name: 'coattail-whale-detector',
      arn: 'arn',
      createdBy: 'me',
      createdAt: new Date('2026-01-01T00:00:00Z'),
      updatedAt: new Date('2026-01-01T00:01:00Z'),
      executionRole: ROLE,
      state: state as JobRun['state'],
      stateDetails: '',
      releaseLabel: 'emr-7.12.0',
      jobDriver: { sparkSubmit: { entryPoint: 's3://x/emr_main.py' } },
      configurationOverrides: { monitoringConfiguration: { s3MonitoringConfiguration: { logUri: 's3://my-coattail/coattail/logs/' } } },
      ...extra,
    },
  };
}
