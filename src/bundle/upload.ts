/**
 * Content-addressed uploads: HeadObject first, PutObject only when the object is missing. The key holds
 * the content's hash, so an object that exists is the same bytes and uploading it again would change nothing.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BucketLayout } from '../config/layout.js';
import { CoattailError, errorMessage } from '../core/errors.js';
import { awsFailure, isNotFound } from '../aws/errors.js';
import { BUNDLE_ZIP, ENTRY_SCRIPT, type JobsBundle } from './bundle.js';

export type UploadOutcome = 'uploaded' | 'present';

export interface ObjectBody {
  /** A buffer, or a function opening a fresh stream (a large file is not read into memory). */
  body: Buffer | (() => NodeJS.ReadableStream);
  size: number;
  contentType: string;
}

export async function ensureObject(
  s3: S3Client,
  bucket: string,
  key: string,
  object: ObjectBody,
  env: NodeJS.ProcessEnv,
): Promise<UploadOutcome> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return 'present';
  } catch (err) {
    if (!isNotFound(err)) throw awsFailure(err, `cannot check s3://${bucket}/${key}`, env);
  }
  try {
    const body = typeof object.body === 'function' ? object.body() : object.body;
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body as Buffer, ContentLength: object.size, ContentType: object.contentType }),
    );
  } catch (err) {
    throw awsFailure(err, `cannot upload s3://${bucket}/${key}`, env);
  }
  return 'uploaded';
}

export interface UploadedBundle {
  hash: string;
  zipUri: string;
  entryUri: string;
  zip: UploadOutcome;
  entry: UploadOutcome;
}

export function bundleUris(layout: BucketLayout, hash: string): { zipKey: string; entryKey: string; zipUri: string; entryUri: string } {
  const zipKey = layout.bundleKey(hash, BUNDLE_ZIP);
  const entryKey = layout.bundleKey(hash, ENTRY_SCRIPT);
  return { zipKey, entryKey, zipUri: layout.uri(zipKey), entryUri: layout.uri(entryKey) };
}

export async function uploadBundle(
  s3: S3Client,
  layout: BucketLayout,
  bundle: JobsBundle,
  env: NodeJS.ProcessEnv,
): Promise<UploadedBundle> {
  const uris = bundleUris(layout, bundle.hash);
  const zip = await ensureObject(
    s3,
    layout.bucket,
    uris.zipKey,
    { body: bundle.zip, size: bundle.zip.length, contentType: 'application/zip' },
    env,
  );
  const entry = await ensureObject(
    s3,
    layout.bucket,
    uris.entryKey,
    { body: bundle.entryScript, size: bundle.entryScript.length, contentType: 'text/x-python' },
    env,
  );
  return { hash: bundle.hash, zipUri: uris.zipUri, entryUri: uris.entryUri, zip, entry };
}

/** sha256 of a file, read as a stream. */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (err) {
    throw new CoattailError(
      `cannot read ${file}`,
      errorMessage(err),
      'pass an existing archive, or make one: coattail jobs pack-env --out venv.tar.gz',
    );
  }
  return hash.digest('hex');
}

export const VENV_ARCHIVE = 'venv.tar.gz';

/** Uploads a packed virtual environment (venv-pack) under its content hash; returns its `s3://` URI. */
export async function uploadVenvArchive(
  s3: S3Client,
  layout: BucketLayout,
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<{ uri: string; hash: string; outcome: UploadOutcome }> {
  const hash = await fileSha256(file);
  const key = layout.venvKey(hash, VENV_ARCHIVE);
  const outcome = await ensureObject(
    s3,
    layout.bucket,
    key,
    { body: () => createReadStream(file), size: statSync(file).size, contentType: 'application/gzip' },
    env,
  );
  return { uri: layout.uri(key), hash, outcome };
}
