import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildBundle } from '../../src/bundle/bundle.js';
import { uploadBundle } from '../../src/bundle/upload.js';
import { crc32, storedZip } from '../../src/bundle/zip.js';
import { bucketLayout } from '../../src/config/layout.js';
import { CoattailError } from '../../src/core/errors.js';
import { packageRoot } from '../../src/core/dirs.js';
import { tempDir } from '../helpers/context.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const ROOT = packageRoot();
const VENV_PYTHON = path.join(ROOT, 'jobs-py', '.venv', 'bin', 'python');

/** The same archive written by Python's zipfile (sorted, stored, 1980-01-01, mode 0644): an independent reference. */
function pythonZip(files: Record<string, string>): Buffer {
  const script = `
import io, json, sys, zipfile
files = json.load(sys.stdin)
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
    for name in sorted(files):
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.external_attr = 0o100644 << 16
        z.writestr(info, files[name].encode())
sys.stdout.buffer.write(buf.getvalue())
`;
  const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(files) });
  expect(r.status, r.stderr?.toString()).toBe(0);
  return r.stdout;
}

function fakeJobsPy(files: Record<string, string>): string {
  const dir = path.join(tempDir('bundle'), 'jobs-py');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe('the zip writer', () => {
  it('computes the CRC-32 zip records', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926); // the standard check value
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it("writes byte for byte what Python's zipfile writes for the same files and metadata", () => {
    const files = { 'pkg/b.py': 'print("b")\n', 'pkg/a.py': '', 'emr_main.py': 'import sys\n' };
    const ours = storedZip(Object.entries(files).map(([name, text]) => ({ name, data: Buffer.from(text) })));
    expect(ours.equals(pythonZip(files))).toBe(true);
  });

  it('refuses names that would escape the archive', () => {
    expect(() => storedZip([{ name: '../x.py', data: Buffer.alloc(0) }])).toThrow(/bad zip entry/);
    expect(() => storedZip([{ name: '/abs.py', data: Buffer.alloc(0) }])).toThrow(/bad zip entry/);
  });
});

describe('the jobs bundle', () => {
  const sources = {
    'coattail_jobs/__init__.py': '',
    'coattail_jobs/jobs/whale.py': 'THRESHOLD = 100_000\n',
    'coattail_jobs/__pycache__/whale.cpython-311.pyc': 'compiled',
    'coattail_jobs/notes.txt': 'not code',
    'emr_main.py': 'from coattail_jobs.__main__ import main\n',
    'tests/test_x.py': 'not in the bundle',
  };

  it('holds the package sources and the entry script, nothing else, named by the sha256 of its bytes', () => {
    const dir = fakeJobsPy(sources);
    const bundle = buildBundle(dir);
    expect(bundle.files).toEqual(['coattail_jobs/__init__.py', 'coattail_jobs/jobs/whale.py', 'emr_main.py']);
    const reference = pythonZip({
      'coattail_jobs/__init__.py': '',
      'coattail_jobs/jobs/whale.py': 'THRESHOLD = 100_000\n',
      'emr_main.py': 'from coattail_jobs.__main__ import main\n',
    });
    expect(bundle.zip.equals(reference)).toBe(true);
    expect(bundle.hash).toBe(sha256(reference));
    expect(bundle.entryScript.toString()).toBe('from coattail_jobs.__main__ import main\n');
  });

  it('is reproducible: file times do not change it, content does', () => {
    const dir = fakeJobsPy(sources);
    const first = buildBundle(dir);
    utimesSync(path.join(dir, 'coattail_jobs/jobs/whale.py'), new Date('2031-05-06T07:08:09Z'), new Date('2031-05-06T07:08:09Z'));
    const second = buildBundle(dir);
    expect(second.zip.equals(first.zip)).toBe(true);
    writeFileSync(path.join(dir, 'coattail_jobs/jobs/whale.py'), 'THRESHOLD = 250_000\n');
    expect(buildBundle(dir).hash).not.toBe(first.hash);
    writeFileSync(path.join(dir, 'coattail_jobs/jobs/whale.py'), 'THRESHOLD = 100_000\n');
    writeFileSync(path.join(dir, 'emr_main.py'), 'changed\n');
    expect(buildBundle(dir).hash).not.toBe(first.hash); // the entry script is part of what the hash names
  });

  it("the repository's bundle imports from the zip, and its entry script runs the package's entry point", () => {
    const bundle = buildBundle(path.join(ROOT, 'jobs-py'));
    const dir = tempDir('bundle');
    const zip = path.join(dir, 'coattail_jobs.zip');
    writeFileSync(zip, bundle.zip);
    writeFileSync(path.join(dir, 'emr_main.py'), bundle.entryScript);
    // As --py-files does: the zip first on the Python path (before the editable install in the venv).
    const env = { ...process.env, PYTHONPATH: zip };
    const where = spawnSync(VENV_PYTHON, ['-c', 'import coattail_jobs.config as c; print(c.__file__)'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    expect(where.status, where.stderr).toBe(0);
    expect(where.stdout.trim()).toBe(path.join(zip, 'coattail_jobs', 'config.py'));
    const run = spawnSync(VENV_PYTHON, [path.join(dir, 'emr_main.py'), 'spark-conf', 'emr'], { cwd: dir, env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(readFileSync(path.join(ROOT, 'jobs-py', 'emr-spark-conf.json'), 'utf8'));
  });
});

describe('uploading the bundle', () => {
  const s3 = new S3Client({ region: 'eu-west-1' });
  const mock = mockClient(s3);
  const layout = bucketLayout('my-coattail');
  const bundle = buildBundle(fakeJobsPy({ 'coattail_jobs/__init__.py': 'X = 1\n', 'emr_main.py': 'main()\n' }));
  const hash = sha256(bundle.zip);
  const notFound = (): Error => Object.assign(new Error('UnknownError'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });

  beforeEach(() => mock.reset());

  it('puts the zip and the entry script under the hash when they are missing', async () => {
    mock.on(HeadObjectCommand).rejects(notFound());
    mock.on(PutObjectCommand).resolves({ ETag: '"x"' });
    const out = await uploadBundle(s3, layout, bundle, {});
    expect(out).toEqual({
      hash,
      zipUri: `s3://my-coattail/coattail/bundles/${hash}/coattail_jobs.zip`,
      entryUri: `s3://my-coattail/coattail/bundles/${hash}/emr_main.py`,
      zip: 'uploaded',
      entry: 'uploaded',
    });
    expect(mock.commandCalls(HeadObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'my-coattail', Key: `coattail/bundles/${hash}/coattail_jobs.zip` },
      { Bucket: 'my-coattail', Key: `coattail/bundles/${hash}/emr_main.py` },
    ]);
    const puts = mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(2);
    expect(puts[0]).toMatchObject({
      Bucket: 'my-coattail',
      Key: `coattail/bundles/${hash}/coattail_jobs.zip`,
      ContentLength: bundle.zip.length,
      ContentType: 'application/zip',
    });
    expect(sha256(puts[0]!.Body as Buffer)).toBe(hash);
    expect(puts[1]).toMatchObject({ Bucket: 'my-coattail', Key: `coattail/bundles/${hash}/emr_main.py`, ContentType: 'text/x-python' });
    expect((puts[1]!.Body as Buffer).toString()).toBe('main()\n');
  });

  it('uploads nothing when the objects are already there', async () => {
    mock.on(HeadObjectCommand).resolves({ ContentLength: bundle.zip.length });
    const out = await uploadBundle(s3, layout, bundle, {});
    expect(out.zip).toBe('present');
    expect(out.entry).toBe('present');
    expect(mock.commandCalls(HeadObjectCommand)).toHaveLength(2);
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it("fails with one line and S3's reason when the check is refused", async () => {
    mock
      .on(HeadObjectCommand)
      .rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const err = await uploadBundle(s3, layout, bundle, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoattailError);
    expect((err as CoattailError).line()).toBe(
      `coattail: cannot check s3://my-coattail/coattail/bundles/${hash}/coattail_jobs.zip: AccessDenied: Access Denied. Check that the credentials in use are current and allowed to do this (see docs/DEPLOY.md for the permissions)`,
    );
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
