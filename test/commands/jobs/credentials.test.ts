/**
 * Credentials never reach output: the real binary runs jobs and ddl commands (successes and error paths,
 * with --verbose) against a local stand-in for EMR Serverless, S3 and Athena, with fake credentials in the
 * environment; every byte printed is searched for them. The stand-in checks that the requests were signed
 * with those credentials, so the search is over runs that really used them.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/core/dirs.js';

const ROOT = packageRoot();
const KEY_ID = 'AKIAFAKELEAKTEST7Q2Z';
const SECRET = 'fAkeSecretLeakTest/9x8y7w6v5u4t3s2r1q0pXYZ';
const TOKEN = 'FwoFakeSessionTokenLeakTest//////////wEaDFAKEFAKEFAKE';
const APP = '00fleaktest1234';
const RUN_OK = '00frunok';
const RUN_MISSING = '00frunmissing';
const RUN_ECHO = '00frunecho'; // the service's error quotes the caller's key id and session token
const BUCKET = 'leak-test-bucket';

interface Seen {
  method: string;
  url: string;
  authorization: string;
  token: string;
}
const seen: Seen[] = [];
let server: Server;
let endpoint = '';
const cwd = mkdtempSync(path.join(os.tmpdir(), 'coattail-creds-'));

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function jobRun(id: string): Record<string, unknown> {
  return {
    applicationId: APP,
    jobRunId: id,
    name: 'coattail-whale-detector',
    arn: `arn:${id}`,
    createdBy: 'ci',
    createdAt: 1767225600,
    updatedAt: 1767225660,
    executionRole: 'arn:aws:iam::123456789012:role/r',
    state: 'RUNNING',
    stateDetails: '',
    releaseLabel: 'emr-7.12.0',
    mode: 'STREAMING',
    jobDriver: { sparkSubmit: { entryPoint: 's3://x/emr_main.py' } },
    configurationOverrides: { monitoringConfiguration: { s3MonitoringConfiguration: { logUri: `s3://${BUCKET}/coattail/logs/` } } },
  };
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '';
  const target = String(req.headers['x-amz-target'] ?? '');
  if (target.startsWith('AmazonAthena.')) {
    return json(
      res,
      400,
      { __type: 'InvalidRequestException', message: 'WorkGroup primary is not authorized for this principal' },
      { 'content-type': 'application/x-amz-json-1.1' },
    );
  }
  if (url.startsWith(`/applications/${APP}/jobruns`)) {
    if (req.method === 'POST') {
      return json(
        res,
        403,
        { message: 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: emr-serverless:StartJobRun' },
        { 'x-amzn-errortype': 'AccessDeniedException' },
      );
    }
    if (url.includes(RUN_ECHO)) {
      return json(
        res,
        403,
        { message: `The security token included in the request is invalid: key ${KEY_ID}, token ${TOKEN}` },
        { 'x-amzn-errortype': 'UnrecognizedClientException' },
      );
    }
    if (url.includes(RUN_MISSING))
      return json(res, 404, { message: `Job run ${RUN_MISSING} does not exist` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
    if (url.includes(RUN_OK)) return json(res, 200, { jobRun: jobRun(RUN_OK) });
    const { jobRunId: _id, ...rest } = jobRun(RUN_OK);
    return json(res, 200, { jobRuns: [{ ...rest, id: RUN_OK }] });
  }
  // S3, path-style.
  if (req.method === 'HEAD') {
    res.writeHead(404);
    res.end();
    return;
  }
  if (req.method === 'PUT') {
    res.writeHead(200, { etag: '"e1"' });
    res.end();
    return;
  }
  if (url.includes('/SPARK_DRIVER/stdout.gz')) {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(gzipSync('{"event": "started"}\n'));
    return;
  }
  res.writeHead(404, { 'content-type': 'application/xml' });
  res.end(
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
  );
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: String(req.headers.authorization ?? ''),
        token: String(req.headers['x-amz-security-token'] ?? ''),
      });
      handle(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(cwd, { recursive: true, force: true });
});

function coattail(args: string[]): Promise<{ code: number | null; out: Buffer; err: Buffer }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: cwd,
    AWS_CONFIG_FILE: path.join(cwd, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(cwd, 'no-credentials'),
    AWS_ACCESS_KEY_ID: KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_SESSION_TOKEN: TOKEN,
    AWS_REGION: 'eu-west-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    COATTAIL_EMR_ENDPOINT: endpoint,
    COATTAIL_S3_ENDPOINT: endpoint,
    COATTAIL_ATHENA_ENDPOINT: endpoint,
    COATTAIL_EMR_APPLICATION_ID: APP,
    COATTAIL_EMR_ROLE_ARN: 'arn:aws:iam::123456789012:role/coattail-emr',
    COATTAIL_BUCKET: BUCKET,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'coattail'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out: Buffer.concat(out), err: Buffer.concat(err) }));
  });
}

function expectNoCredentials(bytes: Buffer, what: string): void {
  for (const secret of [KEY_ID, SECRET, TOKEN, SECRET.slice(0, 16), TOKEN.slice(0, 16)]) {
    expect(bytes.includes(Buffer.from(secret)), `${what} printed a credential`).toBe(false);
  }
}

describe('no command prints credentials', () => {
  it.each([
    {
      args: ['-v', 'jobs', 'submit', 'whale-detector', '--dry-run'],
      code: 0,
      stdout: /"clientToken": "[0-9a-f]{64}"/,
      stderr: /dry run: nothing uploaded/,
    },
    {
      // whale-detector runs (the listing below): volume-anomaly does not, so its start is attempted.
      args: ['-v', 'jobs', 'submit', 'volume-anomaly', '--save-config'],
      code: 1,
      stdout: /^$/,
      stderr:
        /coattail: cannot start coattail-volume-anomaly on application 00fleaktest1234: AccessDeniedException: User: arn:aws:iam::123456789012:user\/ci is not authorized to perform: emr-serverless:StartJobRun\. Check/,
    },
    {
      args: ['-v', 'jobs', 'submit', 'whale-detector'],
      code: 2,
      stdout: /^$/,
      stderr: /coattail: whale-detector is already running on this application: job run 00frunok \(RUNNING since /,
    },
    { args: ['jobs', 'list'], code: 0, stdout: /│ 00frunok +│ whale-detector +│ STREAMING +│ RUNNING/, stderr: /^$/ },
    { args: ['jobs', 'list', '--json'], code: 0, stdout: /^\[\{"id":"00frunok"/, stderr: /^$/ },
    {
      args: ['-v', 'jobs', 'status', RUN_MISSING],
      code: 1,
      stdout: /^$/,
      stderr: /coattail: cannot read job run 00frunmissing: ResourceNotFoundException: Job run 00frunmissing does not exist\. Check/,
    },
    { args: ['-v', 'jobs', 'logs', RUN_OK, '--log', 'stdout'], code: 0, stdout: /^\{"event": "started"\}\n$/, stderr: /^$/ },
    {
      args: ['-v', 'jobs', 'status', RUN_ECHO],
      code: 1,
      stdout: /^$/,
      stderr:
        /coattail: cannot read job run 00frunecho: UnrecognizedClientException: The security token included in the request is invalid: key \*\*\*\*, token \*\*\*\*\. Check/,
    },
    {
      args: ['-v', 'reprocess', '--as-of', '2024-05-01T12:00:00Z', '--emr', '--wait'],
      code: 1,
      stdout: /^$/,
      stderr:
        /coattail: cannot start coattail-reprocess-anomalies on application 00fleaktest1234: AccessDeniedException: User: arn:aws:iam::123456789012:user\/ci is not authorized to perform: emr-serverless:StartJobRun\. Check/,
    },
    {
      args: ['-v', 'ddl', 'apply'],
      code: 1,
      stdout: /^$/,
      stderr:
        /coattail: Athena refused the statement \(work group primary\): InvalidRequestException: WorkGroup primary is not authorized for this principal\. /,
    },
    { args: ['ddl', 'apply', '--dry-run', '--json'], code: 0, stdout: /"status":"pending"/, stderr: /^$/ },
    { args: ['jobs', 'status', '--region', 'nowhere', RUN_OK], code: 2, stdout: /^$/, stderr: /coattail: --region 'nowhere' is not valid/ },
  ])('coattail $args', { timeout: 60_000 }, async ({ args, code, stdout, stderr }) => {
    const before = seen.length;
    const r = await coattail(args);
    expect(r.code, r.err.toString()).toBe(code);
    expect(r.out.toString()).toMatch(stdout);
    expect(r.err.toString()).toMatch(stderr);
    expectNoCredentials(Buffer.concat([r.out, r.err]), args.join(' '));
    // Every request the command made was signed with the fake credentials.
    for (const request of seen.slice(before)) {
      expect(request.authorization, `${request.method} ${request.url}`).toContain(`Credential=${KEY_ID}/`);
      expect(request.token).toBe(TOKEN);
    }
  });

  it('the saved config holds settings, never credentials', () => {
    const file = path.join(cwd, 'coattail.config.json');
    expect(existsSync(file)).toBe(true);
    const bytes = readFileSync(file);
    expectNoCredentials(bytes, 'coattail.config.json');
    expect(JSON.parse(bytes.toString())).toEqual({
      applicationId: APP,
      bucket: BUCKET,
      executionRoleArn: 'arn:aws:iam::123456789012:role/coattail-emr',
      region: 'eu-west-1',
    });
  });

  it('the stand-in saw signed requests from the commands that call AWS', () => {
    expect(seen.some((r) => r.method === 'POST' && r.url === `/applications/${APP}/jobruns`)).toBe(true);
    expect(seen.some((r) => r.method === 'PUT' && r.url.startsWith(`/${BUCKET}/coattail/bundles/`))).toBe(true);
    expect(seen.some((r) => r.url.startsWith(`/${BUCKET}/coattail/ddl/applied.json`))).toBe(true);
  });
});
