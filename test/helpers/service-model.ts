/**
 * Holds a request to an AWS service's own model (botocore's, from the jobs' virtualenv): required members,
 * types, lengths and patterns. Blobs (a body) are checked for presence only: pass them as a string. Members the
 * operation does not have are dropped first, as the SDK's serializer never sends them.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './paths.js';

const PYTHON = path.join(REPO_ROOT, 'jobs-py', '.venv', 'bin', 'python');

/** Validates stdin's JSON `{service, operation, params}`; prints the problems and exits 1 when there are any. */
const VALIDATE = `
import json, re, sys
import botocore.session
from botocore.validate import ParamValidator

request = json.load(sys.stdin)
model = botocore.session.get_session().get_service_model(request['service'])
shape = model.operation_model(request['operation']).input_shape
# The SDK's serializer sends only the shape's members (lib-storage passes one set of params to every call).
params = {k: v for k, v in request['params'].items() if k in shape.members}
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

walk(params, shape, request['operation'])
print('\\n'.join(problems))
sys.exit(1 if problems else 0)
`;

/** The problems botocore's model finds in `params` for `service`'s `operation` ('' when none). */
export function modelProblems(service: string, operation: string, params: object): string {
  // Undefined members are not sent: drop them as the SDK's serializer does.
  const sent = JSON.parse(JSON.stringify(params)) as Record<string, unknown>;
  const r = spawnSync(PYTHON, ['-c', VALIDATE], { input: JSON.stringify({ service, operation, params: sent }), encoding: 'utf8' });
  const problems = `${r.stdout}${r.stderr}`.trim();
  return r.status === 0 ? '' : problems || `exit status ${r.status}`;
}
