/**
 * The StartJobRun request held to EMR Serverless's own service model (botocore's, from the jobs' virtualenv):
 * required members, types, lengths and patterns, with every optional part coattail can add switched on.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bucketLayout } from '../../../src/config/layout.js';
import { startJobRunRequest, type SubmitSpec } from '../../../src/spark/emr/request.js';
import { checkConfs, resourceProperties } from '../../../src/spark/emr/resources.js';
import { REPO_ROOT } from '../../helpers/paths.js';

const PYTHON = path.join(REPO_ROOT, 'jobs-py', '.venv', 'bin', 'python');

/** Validates stdin's JSON as StartJobRun's input; prints the problems and exits 1 when there are any. */
const VALIDATE = `
import json, re, sys
import botocore.session
from botocore.validate import ParamValidator

model = botocore.session.get_session().get_service_model('emr-serverless')
shape = model.operation_model('StartJobRun').input_shape
params = json.load(sys.stdin)
problems = []
report = ParamValidator().validate(params, shape)
if report.has_errors():
    problems.append(report.generate_report())

def walk(value, shape, where):
    # ParamValidator checks types and minimums; the maximums and patterns are checked here.
    meta = shape.metadata
    if shape.type_name == 'string':
        if 'max' in meta and len(value) > meta['max']:
            problems.append(f'{where}: longer than {meta["max"]}')
        if 'pattern' in meta and not re.fullmatch(meta['pattern'], value, re.S):
            problems.append(f'{where}: does not match {meta["pattern"]}')
    elif shape.type_name == 'structure':
        for k, v in value.items():
            walk(v, shape.members[k], f'{where}.{k}')
    elif shape.type_name == 'list':
        if 'max' in meta and len(value) > meta['max']:
            problems.append(f'{where}: more than {meta["max"]} items')
        for i, v in enumerate(value):
            walk(v, shape.member, f'{where}[{i}]')
    elif shape.type_name == 'map':
        for k, v in value.items():
            walk(k, shape.key, f'{where} key')
            walk(v, shape.value, f'{where}[{k}]')
    elif shape.type_name in ('integer', 'long'):
        if 'max' in meta and value > meta['max']:
            problems.append(f'{where}: above {meta["max"]}')

walk(params, shape, 'StartJobRun')
print('\\n'.join(problems))
sys.exit(1 if problems else 0)
`;

function validate(request: unknown): { status: number | null; problems: string } {
  const r = spawnSync(PYTHON, ['-c', VALIDATE], { input: JSON.stringify(request), encoding: 'utf8' });
  return { status: r.status, problems: `${r.stdout}${r.stderr}`.trim() };
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
