import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { uploadVenvArchive } from '../../src/bundle/upload.js';
import { createS3Client } from '../../src/aws/clients.js';
import { bucketLayout } from '../../src/config/layout.js';
import { CoattailError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { Capture, tempDir, waitFor } from '../helpers/context.js';
import { modelProblems } from '../helpers/service-model.js';
import { FakeTerminal } from '../helpers/terminal.js';

const MiB = 1024 * 1024;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const layout = bucketLayout('my-coattail');
const notFound = (): Error => Object.assign(new Error('UnknownError'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });

/** A 20 MiB archive of varied bytes: in 8 MiB parts, two full parts and one of 4 MiB. */
function archive(): { file: string; bytes: Buffer; key: string } {
  const bytes = Buffer.alloc(20 * MiB);
  for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
  const file = path.join(tempDir('upload'), 'venv.tar.gz');
  writeFileSync(file, bytes);
  return { file, bytes, key: `coattail/venvs/${sha256(bytes)}/venv.tar.gz` };
}

describe('the multipart upload of a large archive', () => {
  const s3 = new S3Client({ region: 'eu-west-1' });
  const mock = mockClient(s3);
  beforeEach(() => mock.reset());

  it('creates the upload, sends 8 MiB parts that add up to the file, and completes it with their ETags', async () => {
    const { file, bytes, key } = archive();
    mock.on(HeadObjectCommand).rejects(notFound());
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    mock.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `"etag-${input.PartNumber}"` }));
    mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"whole"' });

    const out = await uploadVenvArchive(s3, layout, file, {});

    expect(out).toEqual({ uri: `s3://my-coattail/${key}`, hash: sha256(bytes), outcome: 'uploaded' });
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    const created = mock.commandCalls(CreateMultipartUploadCommand).map((c) => c.args[0].input);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ Bucket: 'my-coattail', Key: key, ContentType: 'application/gzip' });
    const parts = mock
      .commandCalls(UploadPartCommand)
      .map((c) => c.args[0].input)
      .sort((a, b) => a.PartNumber! - b.PartNumber!);
    expect(parts.map((p) => [p.PartNumber, p.UploadId, p.Bucket, p.Key])).toEqual([
      [1, 'up-1', 'my-coattail', key],
      [2, 'up-1', 'my-coattail', key],
      [3, 'up-1', 'my-coattail', key],
    ]);
    const bodies = parts.map((p) => Buffer.from(p.Body as Uint8Array));
    expect(bodies.map((b) => b.length)).toEqual([8 * MiB, 8 * MiB, 4 * MiB]);
    expect(sha256(Buffer.concat(bodies))).toBe(sha256(bytes));
    const completed = mock.commandCalls(CompleteMultipartUploadCommand).map((c) => c.args[0].input);
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      Bucket: 'my-coattail',
      Key: key,
      UploadId: 'up-1',
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: '"etag-1"' },
          { PartNumber: 2, ETag: '"etag-2"' },
          { PartNumber: 3, ETag: '"etag-3"' },
        ],
      },
    });
    expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
    // Each request as S3's own model (botocore's) has it; a body is checked for presence.
    expect(modelProblems('s3', 'CreateMultipartUpload', created[0]!)).toBe('');
    for (const part of parts) expect(modelProblems('s3', 'UploadPart', { ...part, Body: 'part' })).toBe('');
    expect(modelProblems('s3', 'CompleteMultipartUpload', completed[0]!)).toBe('');
    expect(modelProblems('s3', 'UploadPart', { ...parts[0], PartNumber: undefined, Body: 'part' })).toContain('PartNumber'); // it can fail
  });

  it('aborts the upload when a part keeps failing, and fails with one line', async () => {
    const { file, key } = archive();
    mock.on(HeadObjectCommand).rejects(notFound());
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
    mock.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => {
      if (input.PartNumber === 2)
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
          name: 'InternalError',
          $metadata: { httpStatusCode: 500 },
        });
      return { ETag: `"etag-${input.PartNumber}"` };
    });
    mock.on(AbortMultipartUploadCommand).resolves({});

    const err = await uploadVenvArchive(s3, layout, file, {}).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).line()).toBe(
      `coattail: cannot upload s3://my-coattail/${key}: InternalError: We encountered an internal error. Please try again. Check the settings and your network, then try again`,
    );
    expect(mock.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'my-coattail', Key: key, UploadId: 'up-2' },
    ]);
    expect(modelProblems('s3', 'AbortMultipartUpload', mock.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input)).toBe('');
    expect(mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('shows the bytes sent as plain log lines off a terminal', async () => {
    const { file } = archive();
    mock.on(HeadObjectCommand).rejects(notFound());
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-3' });
    mock.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `"etag-${input.PartNumber}"` }));
    mock.on(CompleteMultipartUploadCommand).resolves({});
    const stderr = new Capture();
    const logger = createLogger(stderr, { level: 'info', clock: () => 0 });

    await uploadVenvArchive(s3, layout, file, {}, { progress: { stderr, env: {}, logger }, plainEveryMs: 0, queueSize: 1 });

    // One part at a time: 8, 16 and 20 of 20 MiB.
    expect(stderr.lines().map((l) => l.replace(/^\S+ info\s+/, ''))).toEqual([
      'uploading venv.tar.gz (20.0 MiB)',
      'uploading venv.tar.gz: 8.0 MiB of 20.0 MiB (40%)',
      'uploading venv.tar.gz: 16.0 MiB of 20.0 MiB (80%)',
      'uploading venv.tar.gz: 20.0 MiB of 20.0 MiB (100%)',
    ]);
    expect(stderr.text()).not.toContain('\x1b');
  });

  it('on a terminal draws the bytes sent in a spinner, and clears it when done', async () => {
    const { file } = archive();
    const tty = new FakeTerminal();
    mock.on(HeadObjectCommand).rejects(notFound());
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-4' });
    // Part 2 waits until the spinner has drawn what part 1 sent.
    mock.on(UploadPartCommand).callsFake(async (input: { PartNumber: number }) => {
      if (input.PartNumber === 2)
        await waitFor(() => tty.text().includes('uploading venv.tar.gz: 8.0 MiB of 20.0 MiB (40%)'), 10_000, 'the spinner');
      return { ETag: `"etag-${input.PartNumber}"` };
    });
    mock.on(CompleteMultipartUploadCommand).resolves({});
    const logger = createLogger(tty, { level: 'info' });

    await uploadVenvArchive(s3, layout, file, {}, { progress: { stderr: tty, env: { TERM: 'xterm' }, logger }, queueSize: 1 });

    expect(tty.text()).toContain('uploading venv.tar.gz (20.0 MiB)');
    expect(tty.text()).toContain('\x1b[');
    expect(tty.text()).not.toContain('\n'); // no line stays: the command reports the outcome itself
  });
});

/** What a stand-in S3 endpoint saw: method, path, query and body of each request. */
interface SeenRequest {
  method: string;
  url: URL;
  body: Buffer;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A real HTTP endpoint speaking S3's multipart protocol, whose UploadPart of part 2 answers 500 the first
 * `failures` times: the production client (createS3Client) must retry it with its own strategy.
 */
async function flakyS3(failures: number): Promise<{ env: NodeJS.ProcessEnv; seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  let part2Failures = 0;
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      seen.push({ method: req.method ?? '', url, body });
      const q = url.searchParams;
      const xml = (status: number, text: string, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/xml', ...headers });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${text}`);
      };
      if (req.method === 'HEAD') {
        res.writeHead(404).end();
      } else if (req.method === 'POST' && q.has('uploads')) {
        xml(200, '<InitiateMultipartUploadResult><Bucket>my-coattail</Bucket><UploadId>up-9</UploadId></InitiateMultipartUploadResult>');
      } else if (req.method === 'PUT' && q.has('partNumber')) {
        if (q.get('partNumber') === '2' && part2Failures < failures) {
          part2Failures += 1;
          xml(500, '<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>');
        } else {
          xml(200, '', { etag: `"${createHash('md5').update(body).digest('hex')}"` });
        }
      } else if (req.method === 'POST' && q.has('uploadId')) {
        xml(200, '<CompleteMultipartUploadResult><Bucket>my-coattail</Bucket><ETag>"whole-3"</ETag></CompleteMultipartUploadResult>');
      } else if (req.method === 'DELETE' && q.has('uploadId')) {
        res.writeHead(204).end();
      } else {
        xml(400, '<Error><Code>InvalidRequest</Code><Message>unexpected</Message></Error>');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { env: { COATTAIL_S3_ENDPOINT: `http://127.0.0.1:${port}` }, seen };
}

describe('the multipart upload against a real endpoint', () => {
  const partsOf = (seen: SeenRequest[], n: string): SeenRequest[] =>
    seen.filter((r) => r.method === 'PUT' && r.url.searchParams.get('partNumber') === n);

  it("retries a part that failed once with the client's retry strategy, and completes", async () => {
    const { file, bytes, key } = archive();
    const { env, seen } = await flakyS3(1);
    const s3 = createS3Client({ region: 'eu-west-1' }, env);

    const out = await uploadVenvArchive(s3, layout, file, env);

    expect(out.outcome).toBe('uploaded');
    const second = partsOf(seen, '2');
    expect(second).toHaveLength(2);
    expect(second[1]!.body.equals(second[0]!.body)).toBe(true);
    const lastBodies = ['1', '2', '3'].map((n) => partsOf(seen, n).at(-1)!.body);
    expect(sha256(Buffer.concat(lastBodies))).toBe(sha256(bytes));
    const complete = seen.find((r) => r.method === 'POST' && r.url.searchParams.get('uploadId') === 'up-9')!;
    expect(complete.url.pathname).toBe(`/my-coattail/${key}`);
    const etags = [...complete.body.toString().matchAll(/<ETag>(.*?)<\/ETag>/g)].map((m) => m[1]);
    const md5 = (b: Buffer): string => `"${createHash('md5').update(b).digest('hex')}"`;
    expect(etags.map((e) => e!.replace(/&quot;/g, '"'))).toEqual(lastBodies.map(md5));
    expect(seen.filter((r) => r.method === 'DELETE')).toHaveLength(0);
  });

  it('aborts the upload once the retries are spent', async () => {
    const { file, key } = archive();
    const { env, seen } = await flakyS3(Infinity);
    const s3 = createS3Client({ region: 'eu-west-1' }, env);

    const err = await uploadVenvArchive(s3, layout, file, env).catch((e: unknown) => e);

    expect((err as CoattailError).line()).toMatch(new RegExp(`^coattail: cannot upload s3://my-coattail/${key}: InternalError: `));
    expect(partsOf(seen, '2')).toHaveLength(3); // maxAttempts: 3
    const aborts = seen.filter((r) => r.method === 'DELETE');
    expect(aborts.map((r) => [r.url.pathname, r.url.searchParams.get('uploadId')])).toEqual([[`/my-coattail/${key}`, 'up-9']]);
    expect(seen.some((r) => r.method === 'POST' && r.url.searchParams.has('uploadId'))).toBe(false);
  });
});
