/**
 * Content-addressed uploads: HeadObject first, an upload only when the object is missing. The key holds
 * the content's hash, so an object that exists is the same bytes and uploading it again would change nothing.
 * Uploads go through lib-storage's `Upload`: one PutObject below a part's size, otherwise a multipart upload
 * whose parts are each retried by the client's retry strategy; a part that keeps failing aborts the upload
 * (no orphaned parts billed in the bucket) and the error is raised.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BucketLayout } from '../config/layout.js';
import { CoattailError, errorMessage } from '../core/errors.js';
import { formatByteProgress, formatBytes, startTask, type ProgressTarget } from '../core/progress.js';
import { awsFailure, isNotFound } from '../aws/errors.js';
import { BUNDLE_ZIP, ENTRY_SCRIPT, type JobsBundle } from './bundle.js';

export type UploadOutcome = 'uploaded' | 'present';

export interface ObjectBody {
  /** A buffer, or a function opening a fresh stream (a large file is not read into memory). */
  body: Buffer | (() => NodeJS.ReadableStream);
  size: number;
  contentType: string;
}

/** 8 MiB parts: a 90 MiB archive in 12 parts; S3's least part size is 5 MiB. */
export const UPLOAD_PART_SIZE = 8 * 1024 * 1024;
/** Parts in flight at once; at most queueSize × partSize bytes are held in memory. */
export const UPLOAD_QUEUE_SIZE = 4;

export interface TransferOptions {
  /** Where the byte progress shows (the command's context); none: silent. */
  progress?: ProgressTarget | undefined;
  /** Off a terminal, the least time between two byte-progress lines (startTask's default otherwise). */
  plainEveryMs?: number;
  partSize?: number;
  queueSize?: number;
}

export async function ensureObject(
  s3: S3Client,
  bucket: string,
  key: string,
  object: ObjectBody,
  env: NodeJS.ProcessEnv,
  transfer: TransferOptions = {},
): Promise<UploadOutcome> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return 'present';
  } catch (err) {
    if (!isNotFound(err)) throw awsFailure(err, `cannot check s3://${bucket}/${key}`, env);
  }
  const name = path.posix.basename(key);
  const task = transfer.progress
    ? startTask(transfer.progress, `uploading ${name} (${formatBytes(object.size)})`, {
        ...(transfer.plainEveryMs !== undefined ? { plainEveryMs: transfer.plainEveryMs } : {}),
      })
    : undefined;
  try {
    const body = typeof object.body === 'function' ? (object.body() as Readable) : object.body;
    const upload = new Upload({
      client: s3,
      // ContentLength tells a stream's size, so the parts are counted and checked against it.
      params: { Bucket: bucket, Key: key, Body: body, ContentLength: object.size, ContentType: object.contentType },
      partSize: transfer.partSize ?? UPLOAD_PART_SIZE,
      queueSize: transfer.queueSize ?? UPLOAD_QUEUE_SIZE,
      leavePartsOnError: false,
    });
    upload.on('httpUploadProgress', (p) => task?.update(`uploading ${name}: ${formatByteProgress(p.loaded ?? 0, p.total ?? object.size)}`));
    await upload.done();
  } catch (err) {
    throw awsFailure(err, `cannot upload s3://${bucket}/${key}`, env);
  } finally {
    // The caller says the outcome (uploaded, or the error's one line).
    task?.stop();
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
  transfer: TransferOptions = {},
): Promise<UploadedBundle> {
  const uris = bundleUris(layout, bundle.hash);
  const zip = await ensureObject(
    s3,
    layout.bucket,
    uris.zipKey,
    { body: bundle.zip, size: bundle.zip.length, contentType: 'application/zip' },
    env,
    transfer,
  );
  const entry = await ensureObject(
    s3,
    layout.bucket,
    uris.entryKey,
    { body: bundle.entryScript, size: bundle.entryScript.length, contentType: 'text/x-python' },
    env,
    transfer,
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
  transfer: TransferOptions = {},
): Promise<{ uri: string; hash: string; outcome: UploadOutcome }> {
  const hash = await fileSha256(file);
  const key = layout.venvKey(hash, VENV_ARCHIVE);
  const outcome = await ensureObject(
    s3,
    layout.bucket,
    key,
    { body: () => createReadStream(file), size: statSync(file).size, contentType: 'application/gzip' },
    env,
    transfer,
  );
  return { uri: layout.uri(key), hash, outcome };
}
