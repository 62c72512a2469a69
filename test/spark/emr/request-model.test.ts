/**
 * The StartJobRun request held to EMR Serverless's own service model (botocore's, from the jobs' virtualenv):
 * required members, types, lengths and patterns, with every optional part coattail can add switched on.
 */
import { describe, expect, it } from 'vitest';
import { bucketLayout } from '../../../src/config/layout.js';
import { startJobRunRequest, type SubmitSpec } from '../../../src/spark/emr/request.js';
import { checkConfs, resourceProperties } from '../../../src/spark/emr/resources.js';
import { modelProblems } from '../../helpers/service-model.js';

/** botocore's verdict on a StartJobRun request: exit status 0 and no problems, or 1 and what is wrong. */
function validate(request: object): { status: number; problems: string } {
  const problems = modelProblems('emr-serverless', 'StartJobRun', request);
  return { status: problems === '' ? 0 : 1, problems };
}

const layout = bucketLayout('my-coattail');
const hash = 'a'.repeat(64);
const spec: SubmitSpec = {
  job: 'volume-anomaly',
  applicationId: '00fabc123def4567',
  executionRoleArn: 'arn:aws:iam::123456789012:role/coattail-emr',
  layout,
  region: 'eu-west-1',
  stream: 'coattail-trades',
  alertsTable: 'coattail-alerts',
  sets: ['threshold=3.0'],
  passthrough: [],
  runNonce: 'v2',
  logGroup: '/coattail/emr',
  retriesPerHour: 5,
  timeoutMinutes: 720,
  bundle: {
    hash,
    zipUri: layout.uri(`coattail/bundles/${hash}/coattail_jobs.zip`),
    entryUri: layout.uri(`coattail/bundles/${hash}/emr_main.py`),
  },
  python: { kind: 'archive', uri: layout.uri(`coattail/venvs/${hash}/venv.tar.gz`) },
  venvHash: hash,
  resources: resourceProperties({
    driverCores: '2',
    driverMemory: '8g',
    executorCores: '4',
    executorMemory: '24g',
    executors: '2',
    maxExecutors: '8',
  }),
  confs: checkConfs(['spark.sql.shuffle.partitions=32', 'spark.speculation=true'], new Set()),
  replaces: ['00foldrun0001'],
};

describe("StartJobRun against botocore's EMR Serverless model", () => {
  it('the streaming request with resources, --conf, CloudWatch logs and a replaced run is valid', () => {
    const r = validate(startJobRunRequest(spec, { 'spark.jars': '/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar' }));
    expect(r.problems).toBe('');
    expect(r.status).toBe(0);
  });

  it('the batch request is valid', () => {
    const r = validate(startJobRunRequest({ ...spec, job: 'historical-loader', sets: [], passthrough: ['--symbol', 'BTC-USDT'] }, {}));
    expect(r.problems).toBe('');
    expect(r.status).toBe(0);
  });

  it('the check can fail: a request the model refuses is reported', () => {
    const bad = { ...startJobRunRequest(spec, {}), applicationId: 'NOT VALID', clientToken: '' };
    const r = validate(bad);
    expect(r.status).toBe(1);
    expect(r.problems).toContain('StartJobRun.applicationId: does not match');
  });
});
