/**
 * The record of what `ddl apply` has applied: a JSON object keyed by `<file>#<sha256 of the statement>`,
 * read before anything runs and written after every statement that succeeded. On AWS it is an S3 object,
 * written with a conditional put (If-Match on the ETag read, If-None-Match for the first write), so two
 * applies at once cannot silently overwrite each other's record; locally it is a file beside the warehouse.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { CoattailError, errorMessage } from '../core/errors.js';
import { awsFailure, isNotFound, serviceReason } from '../aws/errors.js';
import type { PlannedStatement } from './plan.js';

const EntrySchema = z.object({ file: z.string(), sha256: z.string(), appliedAt: z.string(), queryExecutionId: z.string().nullable() });
export const LedgerSchema = z.object({ version: z.literal(1), applied: z.record(z.string(), EntrySchema) });
export type Ledger = z.infer<typeof LedgerSchema>;
export type LedgerEntry = z.infer<typeof EntrySchema>;

export function emptyLedger(): Ledger {
  return { version: 1, applied: {} };
}

export interface LedgerRead {
  ledger: Ledger;
  /** What a conditional write must match (the S3 ETag); undefined when there is no ledger yet. */
  version: string | undefined;
}

export interface LedgerStore {
  /** Where the ledger lives, for messages. */
  readonly location: string;
  read(): Promise<LedgerRead>;
  /** Writes the whole ledger; returns the new version. */
  write(ledger: Ledger, version: string | undefined): Promise<string | undefined>;
}

function parseLedger(text: string, location: string): Ledger {
  try {
    return LedgerSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new CoattailError(
      `the DDL ledger ${location} is damaged`,
      errorMessage(err).split('\n')[0]!,
      'restore it from S3 versioning, or delete it to re-apply everything (CREATE TABLE IF NOT EXISTS is harmless; check the migrations by hand)',
    );
  }
}

function render(ledger: Ledger): string {
  const applied = Object.fromEntries(Object.entries(ledger.applied).sort(([a], [b]) => (a < b ? -1 : 1)));
  return `${JSON.stringify({ version: 1, applied }, null, 2)}\n`;
}

export class S3LedgerStore implements LedgerStore {
  readonly location: string;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.location = `s3://${bucket}/${key}`;
  }

  async read(): Promise<LedgerRead> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key }));
      const text = out.Body ? await out.Body.transformToString('utf8') : '';
      return { ledger: parseLedger(text, this.location), version: out.ETag };
    } catch (err) {
      if (isNotFound(err)) return { ledger: emptyLedger(), version: undefined };
      throw awsFailure(err, `cannot read the DDL ledger ${this.location}`, this.env);
    }
  }

  async write(ledger: Ledger, version: string | undefined): Promise<string | undefined> {
    try {
      const out = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          Body: render(ledger),
          ContentType: 'application/json',
          ...(version ? { IfMatch: version } : { IfNoneMatch: '*' }),
        }),
      );
      return out.ETag;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) {
        throw new CoattailError(
          `the DDL ledger ${this.location} changed while this apply ran`,
          `${serviceReason(err)} (another ddl apply at the same time?)`,
          'wait for the other apply to finish, then run ddl apply again: it picks up from the ledger',
        );
      }
      throw awsFailure(err, `cannot write the DDL ledger ${this.location}`, this.env);
    }
  }
}

export class FileLedgerStore implements LedgerStore {
  constructor(readonly location: string) {}

  async read(): Promise<LedgerRead> {
    let text: string;
    try {
      text = readFileSync(this.location, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ledger: emptyLedger(), version: undefined };
      throw new CoattailError(`cannot read ${this.location}`, errorMessage(err), 'check its permissions');
    }
    return { ledger: parseLedger(text, this.location), version: undefined };
  }

  async write(ledger: Ledger): Promise<undefined> {
    mkdirSync(path.dirname(this.location), { recursive: true });
    const tmp = `${this.location}.${process.pid}.tmp`;
    writeFileSync(tmp, render(ledger));
    renameSync(tmp, this.location);
    return undefined;
  }
}

export interface PlanStatus {
  statement: PlannedStatement;
  applied?: LedgerEntry | undefined;
}

/**
 * Each statement with its ledger entry, if applied. A migration whose file was applied with other
 * statements than it holds now was edited after it ran: that is refused, since re-running an edited
 * ADD COLUMNS would add a column twice or half a change.
 */
export function statusOf(plan: readonly PlannedStatement[], ledger: Ledger): PlanStatus[] {
  for (const file of new Set(plan.filter((s) => s.migration).map((s) => s.file))) {
    const now = new Set(plan.filter((s) => s.file === file).map((s) => s.sha256));
    const before = Object.values(ledger.applied).filter((e) => e.file === file);
    const changed = before.find((e) => !now.has(e.sha256));
    if (changed) {
      throw new CoattailError(
        `${file} was changed after it was applied`,
        `the ledger records a statement of it (sha256 ${changed.sha256.slice(0, 12)}) it no longer holds`,
        'restore the file as it was applied and put the change in a new migration',
      );
    }
  }
  return plan.map((statement) => ({ statement, applied: ledger.applied[statement.key] }));
}
