import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  type GetQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import { GetObjectCommand, PutObjectCommand, S3Client, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ddlApply, type DdlDeps, type DdlOptions } from '../../src/commands/ddl.js';
import { CoattailError } from '../../src/core/errors.js';
import { splitStatements } from '../../src/athena/statements.js';
import { tempDir, testContext } from '../helpers/context.js';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

const BUCKET = 'my-coattail';
const LEDGER_KEY = 'coattail/ddl/applied.json';

/** What each file holds, and (written out by hand) the statement ddl apply must send for it. */
const FILES: Record<string, string> = {
  'whales.sql':
    "-- whales: rendered\nCREATE TABLE IF NOT EXISTS `crypto_pulse`.`whales` (\n  `id` string COMMENT 'the trade''s id; not a split'\n)\nPARTITIONED BY (`id`)\nLOCATION 's3://${bucket}/warehouse/crypto_pulse/whales/'\nTBLPROPERTIES ('table_type'='ICEBERG')\n",
  'alerts.sql':
    "CREATE TABLE IF NOT EXISTS `crypto_pulse`.`alerts` (`alert_id` string)\nLOCATION 's3://${bucket}/warehouse/crypto_pulse/alerts/'\nTBLPROPERTIES ('table_type'='ICEBERG');\n",
  'migrations/0002_add_note.sql': 'ALTER TABLE `crypto_pulse`.`alerts` ADD COLUMNS (`note` string)\n',
  'migrations/0001_add_venue.sql':
    "/* the venue of a whale */\nALTER TABLE crypto_pulse.whales ADD COLUMNS (venue string COMMENT 'where', tags array<string>)\n",
};
const SENT = [
  'CREATE DATABASE IF NOT EXISTS `crypto_pulse`',
  "CREATE TABLE IF NOT EXISTS `crypto_pulse`.`alerts` (`alert_id` string)\nLOCATION 's3://my-coattail/warehouse/crypto_pulse/alerts/'\nTBLPROPERTIES ('table_type'='ICEBERG')",
  "CREATE TABLE IF NOT EXISTS `crypto_pulse`.`whales` (\n  `id` string COMMENT 'the trade''s id; not a split'\n)\nPARTITIONED BY (`id`)\nLOCATION 's3://my-coattail/warehouse/crypto_pulse/whales/'\nTBLPROPERTIES ('table_type'='ICEBERG')",
  "ALTER TABLE crypto_pulse.whales ADD COLUMNS (venue string COMMENT 'where', tags array<string>)",
  'ALTER TABLE `crypto_pulse`.`alerts` ADD COLUMNS (`note` string)',
];
const FILE_OF = ['(database)', 'alerts.sql', 'whales.sql', 'migrations/0001_add_venue.sql', 'migrations/0002_add_note.sql'];
const KEYS = SENT.map((sql, i) => `${FILE_OF[i]}#${sha256(sql)}`);

function ddlDir(files: Record<string, string> = FILES): string {
  const dir = tempDir('ddl');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function body(text: string): GetObjectCommandOutput['Body'] {
  return {
    transformToString: async () => text,
    transformToByteArray: async () => new Uint8Array(Buffer.from(text)),
  } as unknown as GetObjectCommandOutput['Body'];
}
const noSuchKey = (): Error =>
  Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });

let athena: AthenaClient;
let s3: S3Client;
let athenaMock: ReturnType<typeof mockClient>;
let s3Mock: ReturnType<typeof mockClient>;
let deps: DdlDeps;
/** Per query: the states GetQueryExecution answers, in turn. */
let script: Record<string, { State: string; StateChangeReason?: string }[]>;
let putBodies: string[];

beforeEach(() => {
  athena = new AthenaClient({ region: 'eu-west-1' });
  s3 = new S3Client({ region: 'eu-west-1' });
  athenaMock = mockClient(athena);
  s3Mock = mockClient(s3);
  deps = { athena, s3, sleep: async () => {}, pollMs: 1 };
  script = {};
  putBodies = [];
  let n = 0;
  athenaMock.on(StartQueryExecutionCommand).callsFake(() => {
    n++;
    script[`q${n}`] ??= [{ State: 'QUEUED' }, { State: 'RUNNING' }, { State: 'SUCCEEDED' }];
    return { QueryExecutionId: `q${n}` };
  });
  athenaMock.on(GetQueryExecutionCommand).callsFake((input: GetQueryExecutionCommandInput) => {
    const states = script[input.QueryExecutionId!]!;
    const status = states.length > 1 ? states.shift()! : states[0]!;
    return { QueryExecution: { QueryExecutionId: input.QueryExecutionId, Status: status } };
  });
  s3Mock.on(GetObjectCommand).rejects(noSuchKey());
  s3Mock.on(PutObjectCommand).callsFake((input: { Body: string }) => {
    putBodies.push(input.Body);
    return { ETag: `"etag-${putBodies.length}"` };
  });
});

const OPTS: DdlOptions = { bucket: BUCKET, region: 'eu-west-1' };

async function apply(opts: Partial<DdlOptions>, dir: string) {
  const ctx = testContext({ cwd: tempDir('ddl') });
  const code = await ddlApply({ ...OPTS, ddlDir: dir, ...opts }, ctx, deps);
  return { code, ctx };
}

function ledgerAfter(): { version: number; applied: Record<string, { file: string; sha256: string; queryExecutionId: string | null }> } {
  return JSON.parse(putBodies[putBodies.length - 1]!);
}

describe('ddl apply through Athena', () => {
  it('sends one statement per query, in order (database, tables by name, migrations by number), polling each to its end', async () => {
    const { code, ctx } = await apply({}, ddlDir());
    expect(code, ctx.err.text()).toBe(0);
    const starts = athenaMock.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(starts.map((i) => i.QueryString)).toEqual(SENT);
    for (const input of starts) {
      expect(input).toEqual({
        QueryString: input.QueryString,
        WorkGroup: 'primary',
        ResultConfiguration: { OutputLocation: 's3://my-coattail/coattail/athena-results/' },
      });
    }
    const polls = athenaMock.commandCalls(GetQueryExecutionCommand).map((c) => c.args[0].input.QueryExecutionId);
    expect(polls).toEqual(['q1', 'q1', 'q1', 'q2', 'q2', 'q2', 'q3', 'q3', 'q3', 'q4', 'q4', 'q4', 'q5', 'q5', 'q5']);
    expect(ctx.err.lines().slice(-1)).toEqual([`ddl apply: 5 applied, 0 already applied (ledger s3://${BUCKET}/${LEDGER_KEY})`]);
  });

  it('records each success in the S3 ledger before the next statement, with conditional writes', async () => {
    await apply({}, ddlDir());
    expect(s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: BUCKET, Key: LEDGER_KEY }]);
    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => [p.Bucket, p.Key, p.ContentType, p.IfNoneMatch, p.IfMatch])).toEqual([
      [BUCKET, LEDGER_KEY, 'application/json', '*', undefined],
      [BUCKET, LEDGER_KEY, 'application/json', undefined, '"etag-1"'],
      [BUCKET, LEDGER_KEY, 'application/json', undefined, '"etag-2"'],
      [BUCKET, LEDGER_KEY, 'application/json', undefined, '"etag-3"'],
      [BUCKET, LEDGER_KEY, 'application/json', undefined, '"etag-4"'],
    ]);
    // Each write holds everything applied so far.
    expect(putBodies.map((b) => Object.keys(JSON.parse(b).applied).length)).toEqual([1, 2, 3, 4, 5]);
    const ledger = ledgerAfter();
    expect(ledger.version).toBe(1);
    expect(Object.keys(ledger.applied).sort()).toEqual([...KEYS].sort());
    expect(ledger.applied[KEYS[3]!]).toMatchObject({
      file: 'migrations/0001_add_venue.sql',
      sha256: sha256(SENT[3]!),
      queryExecutionId: 'q4',
    });
  });

  it('a re-run is a no-op: nothing is sent to Athena and nothing written', async () => {
    await apply({}, ddlDir());
    const ledger = putBodies[putBodies.length - 1]!;
    athenaMock.resetHistory();
    s3Mock.resetHistory();
    s3Mock.on(GetObjectCommand).resolves({ Body: body(ledger), ETag: '"etag-5"' });
    const { code, ctx } = await apply({}, ddlDir());
    expect(code).toBe(0);
    expect(athenaMock.calls()).toHaveLength(0);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(ctx.err.text()).toBe(`ddl apply: nothing to do; all 5 statement(s) are applied (ledger s3://${BUCKET}/${LEDGER_KEY})\n`);
  });

  it('a new migration is the only thing sent; an applied ADD COLUMNS is never sent again', async () => {
    await apply({}, ddlDir());
    const ledger = putBodies[putBodies.length - 1]!;
    athenaMock.resetHistory();
    s3Mock.on(GetObjectCommand).resolves({ Body: body(ledger), ETag: '"etag-5"' });
    const { code } = await apply(
      {},
      ddlDir({ ...FILES, 'migrations/0003_add_score.sql': 'ALTER TABLE crypto_pulse.whales ADD COLUMNS (score double)' }),
    );
    expect(code).toBe(0);
    expect(athenaMock.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.QueryString)).toEqual([
      'ALTER TABLE crypto_pulse.whales ADD COLUMNS (score double)',
    ]);
    expect(s3Mock.commandCalls(PutObjectCommand).pop()!.args[0].input.IfMatch).toBe('"etag-5"');
  });

  it('refuses a migration edited after it was applied', async () => {
    await apply({}, ddlDir());
    const ledger = putBodies[putBodies.length - 1]!;
    athenaMock.resetHistory();
    s3Mock.on(GetObjectCommand).resolves({ Body: body(ledger), ETag: '"etag-5"' });
    const dir = ddlDir({ ...FILES, 'migrations/0001_add_venue.sql': 'ALTER TABLE crypto_pulse.whales ADD COLUMNS (venue string)' });
    const err = (await apply({}, dir).catch((e: unknown) => e)) as CoattailError;
    expect(err.line()).toBe(
      `coattail: migrations/0001_add_venue.sql was changed after it was applied: the ledger records a statement of it (sha256 ${sha256(SENT[3]!).slice(0, 12)}) it no longer holds. Restore the file as it was applied and put the change in a new migration`,
    );
    expect(athenaMock.calls()).toHaveLength(0);
  });

  it("stops at the first failure with Athena's reason; what succeeded before is recorded, nothing after is sent", async () => {
    script.q3 = [
      { State: 'RUNNING' },
      { State: 'FAILED', StateChangeReason: "line 1:8: mismatched input 'TABLEX'. Expecting: 'TABLE'\nat more detail" },
    ];
    const err = (await apply({}, ddlDir()).catch((e: unknown) => e)) as CoattailError;
    expect(err).toBeInstanceOf(CoattailError);
    expect(err.line()).toBe(
      `coattail: ddl apply stopped at whales.sql (crypto_pulse.whales): FAILED: line 1:8: mismatched input 'TABLEX'. Expecting: 'TABLE' (query q3). Fix it and run ddl apply again; 2 statement(s) before it were applied and recorded in s3://${BUCKET}/${LEDGER_KEY}`,
    );
    expect(athenaMock.commandCalls(StartQueryExecutionCommand)).toHaveLength(3);
    expect(Object.keys(ledgerAfter().applied).sort()).toEqual([KEYS[0]!, KEYS[1]!].sort());
  });

  it('--dry-run prints the plan and sends nothing', async () => {
    await apply({}, ddlDir());
    const ledger = JSON.parse(putBodies[1]!) as { applied: Record<string, { appliedAt: string }> }; // after two statements
    athenaMock.resetHistory();
    s3Mock.resetHistory();
    s3Mock.on(GetObjectCommand).resolves({ Body: body(JSON.stringify(ledger)), ETag: '"etag-2"' });
    const { code, ctx } = await apply({ dryRun: true }, ddlDir());
    expect(code).toBe(0);
    expect(athenaMock.calls()).toHaveLength(0);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    const at = (i: number): string => ledger.applied[KEYS[i]!]!.appliedAt;
    expect(ctx.out.text()).toBe(
      [
        `-- ddl apply plan: 5 statement(s), 3 to apply, 2 applied before (ledger s3://${BUCKET}/${LEDGER_KEY})`,
        `-- (database): applied ${at(0)}, skipped`,
        `-- alerts.sql: applied ${at(1)}, skipped`,
        '-- whales.sql: to apply',
        `${SENT[2]};`,
        '-- migrations/0001_add_venue.sql: to apply',
        `${SENT[3]};`,
        '-- migrations/0002_add_note.sql: to apply',
        `${SENT[4]};`,
        '',
      ].join('\n'),
    );
    const json = await apply({ dryRun: true, json: true }, ddlDir());
    const plan = JSON.parse(json.ctx.out.text()) as { statements: { file: string; status: string; sql: string; table: string | null }[] };
    expect(plan.statements.map((s) => [s.file, s.status, s.table])).toEqual([
      ['(database)', 'applied', null],
      ['alerts.sql', 'applied', 'crypto_pulse.alerts'],
      ['whales.sql', 'pending', 'crypto_pulse.whales'],
      ['migrations/0001_add_venue.sql', 'pending', 'crypto_pulse.whales'],
      ['migrations/0002_add_note.sql', 'pending', 'crypto_pulse.alerts'],
    ]);
  });

  it('a concurrent apply (the ledger changed under us) is one clear line', async () => {
    s3Mock.on(PutObjectCommand).rejects(
      Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
        name: 'PreconditionFailed',
        $metadata: { httpStatusCode: 412 },
      }),
    );
    const err = (await apply({}, ddlDir()).catch((e: unknown) => e)) as CoattailError;
    expect(err.line()).toBe(
      `coattail: (database) was applied but could not be recorded: the DDL ledger s3://${BUCKET}/${LEDGER_KEY} changed while this apply ran: PreconditionFailed: At least one of the pre-conditions you specified did not hold (another ddl apply at the same time?). Record it before the next apply (a re-run would send it again)`,
    );
    expect(athenaMock.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
  });

  it("an Athena refusal is one line with the service's reason; the work group and output location are configurable", async () => {
    athenaMock.on(StartQueryExecutionCommand).rejects(
      Object.assign(new Error('WorkGroup analytics is disabled.'), {
        name: 'InvalidRequestException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const err = (await apply({ workGroup: 'analytics', outputLocation: 's3://results-bucket/athena/' }, ddlDir()).catch(
      (e: unknown) => e,
    )) as CoattailError;
    expect(err.line()).toBe(
      'coattail: Athena refused the statement (work group analytics): InvalidRequestException: WorkGroup analytics is disabled. Check the settings and your network, then try again',
    );
    expect(athenaMock.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input).toMatchObject({
      WorkGroup: 'analytics',
      ResultConfiguration: { OutputLocation: 's3://results-bucket/athena/' },
    });
  });
});

describe('ddl apply validates what reaches SQL', () => {
  it.each([
    [
      { 'bad.sql': 'CREATE TABLE IF NOT EXISTS `crypto_pulse`.`Raw-Trades` (a string)' },
      "coattail: bad.sql: table name 'Raw-Trades' is not allowed: names are lower-case letters, digits and underscores, starting with a letter. Rename it in bad.sql",
    ],
    [
      { 'bad.sql': 'CREATE TABLE IF NOT EXISTS `crypto-pulse`.`t` (a string)' },
      "coattail: bad.sql: database name 'crypto-pulse' is not allowed: names are lower-case letters, digits and underscores, starting with a letter. Rename it in bad.sql",
    ],
    [
      { 'evil.sql': 'CREATE TABLE IF NOT EXISTS crypto_pulse.t (a string); DROP TABLE crypto_pulse.raw_trades' },
      "coattail: evil.sql: unsupported statement 'DROP TABLE crypto_pulse.raw_trades': ddl apply runs CREATE DATABASE IF NOT EXISTS, CREATE TABLE IF NOT EXISTS (ddl/*.sql) and ALTER TABLE ... ADD COLUMNS (ddl/migrations/NNNN_*.sql). Change evil.sql to one of those",
    ],
    [
      { 'migrations/0001_x.sql': 'ALTER TABLE crypto_pulse.t ADD COLUMNS (`a b` string)' },
      "coattail: migrations/0001_x.sql: column name 'a b' is not allowed: names are lower-case letters, digits and underscores, starting with a letter. Rename it in migrations/0001_x.sql",
    ],
    [
      { 'migrations/add_x.sql': 'ALTER TABLE crypto_pulse.t ADD COLUMNS (x string)' },
      'coattail: ddl/migrations/add_x.sql is not named NNNN_name.sql: migrations run in the order of their four-digit numbers. Rename it, e.g. 0001_add_venue.sql (lower case, digits, underscores)',
    ],
    [
      { 't.sql': "CREATE TABLE IF NOT EXISTS crypto_pulse.t (a string) LOCATION 's3://${bucket}/${prefix}/t/'" },
      'coattail: t.sql: unknown placeholder ${prefix}: ${bucket} is the only placeholder ddl apply fills in. Fix t.sql',
    ],
  ])('refuses %j before any AWS call', async (files, line) => {
    const err = (await apply({}, ddlDir(files)).catch((e: unknown) => e)) as CoattailError;
    expect(err).toBeInstanceOf(CoattailError);
    expect(err.line()).toBe(line);
    expect(err.exitCode).toBe(2);
    expect(athenaMock.calls()).toHaveLength(0);
  });

  it('refuses a bucket that could break out of the LOCATION literal', async () => {
    const err = (await apply({ bucket: "b' OR '1" }, ddlDir()).catch((e: unknown) => e)) as CoattailError;
    expect(err.exitCode).toBe(2);
    expect(err.line()).toMatch(/^coattail: --bucket 'b' OR '1' is not valid/);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('splits on semicolons only outside quotes, backticks and comments', () => {
    expect(splitStatements("-- a; comment\nA 'x;y' `p;q`; /* c; d */ B -- e;f\n;\n\n")).toEqual(["A 'x;y' `p;q`", 'B']);
  });
});

describe('ddl apply --local', () => {
  /** A Python stand-in: records its arguments and the plan, answers "applied" for each statement but one. */
  function fakePython(failKeyIndex: number | undefined): { python: string; record: string } {
    const dir = tempDir('ddl');
    const record = path.join(dir, 'seen.json');
    const python = path.join(dir, 'python');
    writeFileSync(
      python,
      `#!/usr/bin/env node
if (process.argv.includes('coattail_jobs.jars')) {
  // The jars step before Spark starts: already fetched.
  console.log(JSON.stringify({ jars: [] }));
  process.exit(0);
}
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const plan = JSON.parse(input);
  require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), plan }));
  process.stderr.write('ivy: resolving packages\\n');
  const fail = ${failKeyIndex ?? -1};
  for (const [i, st] of plan.statements.entries()) {
    if (i === fail) {
      console.log(JSON.stringify({ event: 'failed', key: st.key, file: st.file, reason: '[FIELDS_ALREADY_EXISTS] Cannot add column venue' }));
      process.exit(1);
    }
    console.log(JSON.stringify({ event: 'applied', key: st.key, file: st.file }));
  }
});
`,
    );
    chmodSync(python, 0o755);
    return { python, record };
  }

  it("sends the pending statements to the jobs' ddl-apply-local and records each applied one in the warehouse ledger", async () => {
    const { python, record } = fakePython(undefined);
    const cwd = tempDir('ddl');
    const ctx = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: python } });
    expect(await ddlApply({ local: true, ddlDir: ddlDir(), warehouse: 'wh' }, ctx, deps)).toBe(0);
    const seen = JSON.parse(readFileSync(record, 'utf8')) as {
      argv: string[];
      plan: { statements: { key: string; file: string; sql: string }[] };
    };
    expect(seen.argv).toEqual(['-m', 'coattail_jobs', 'ddl-apply-local', '--warehouse', path.join(cwd, 'wh')]);
    const localSent = SENT.map((s) => s.split(BUCKET).join('local-warehouse'));
    expect(seen.plan.statements.map((s) => s.sql)).toEqual(localSent);
    const ledger = JSON.parse(readFileSync(path.join(cwd, 'wh', '.coattail-ddl-applied.json'), 'utf8')) as {
      applied: Record<string, unknown>;
    };
    expect(Object.keys(ledger.applied).sort()).toEqual(localSent.map((s, i) => `${FILE_OF[i]}#${sha256(s)}`).sort());
    expect(ctx.err.text()).not.toContain('ivy:'); // Spark's chatter stays back unless --verbose
    expect(athenaMock.calls()).toHaveLength(0);
    expect(s3Mock.calls()).toHaveLength(0);

    // Again: nothing pending, Python is not even started.
    rmSync(record);
    const again = testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: python } });
    expect(await ddlApply({ local: true, ddlDir: ddlDir(), warehouse: 'wh' }, again, deps)).toBe(0);
    expect(again.err.text()).toContain('nothing to do');
  });

  it("stops at the failing statement with Spark's reason; the ones before are recorded", async () => {
    const { python } = fakePython(3);
    const cwd = tempDir('ddl');
    const err = (await ddlApply(
      { local: true, ddlDir: ddlDir(), warehouse: 'wh' },
      testContext({ cwd, env: { ...process.env, COATTAIL_PYTHON: python } }),
      deps,
    ).catch((e: unknown) => e)) as CoattailError;
    expect(err.line()).toBe(
      `coattail: ddl apply stopped at migrations/0001_add_venue.sql (crypto_pulse.whales): [FIELDS_ALREADY_EXISTS] Cannot add column venue. Fix it and run ddl apply again; 3 statement(s) before it were applied and recorded in ${path.join(cwd, 'wh', '.coattail-ddl-applied.json')}`,
    );
    const ledger = JSON.parse(readFileSync(path.join(cwd, 'wh', '.coattail-ddl-applied.json'), 'utf8')) as {
      applied: Record<string, { file: string }>;
    };
    expect(
      Object.values(ledger.applied)
        .map((e) => e.file)
        .sort(),
    ).toEqual(['(database)', 'alerts.sql', 'whales.sql']);
  });
});
