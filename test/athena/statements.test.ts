/**
 * Every statement `ddl apply` sends, held to Athena's DDL grammar. Athena runs CREATE and ALTER TABLE with
 * Hive's grammar (backslash escapes; COMMENT takes one literal), not Trino's; nothing here runs Athena, so
 * the jobs' test helper `python -m tests.athena_ddl` (sqlglot's athena dialect) stands in for its parser.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planDdl } from '../../src/athena/plan.js';
import { packageRoot } from '../../src/core/dirs.js';

const ROOT = packageRoot();
const JOBS_PY = path.join(ROOT, 'jobs-py');
const PYTHON = path.join(JOBS_PY, '.venv', 'bin', 'python');
const BUCKET = 'my-coattail';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

interface Verdict {
  sql: string;
  errors: string[];
}

function python(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(PYTHON, args, { cwd: JOBS_PY, input, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function athenaVerdicts(statements: readonly string[]): { status: number | null; verdicts: Verdict[]; stderr: string } {
  const { status, stdout, stderr } = python(['-m', 'tests.athena_ddl'], JSON.stringify(statements));
  const verdicts = stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Verdict);
  return { status, verdicts, stderr };
}

type Verdicts = ReturnType<typeof athenaVerdicts>;

/**
 * Fails, naming each statement and why, unless Athena's grammar takes every one. A test that already
 * has the verdicts passes them in: each run of the parser is a Python start-up of a few seconds.
 */
function expectAthenaTakes(statements: readonly string[], { status, verdicts, stderr }: Verdicts = athenaVerdicts(statements)): void {
  const refused = verdicts.filter((v) => v.errors.length > 0).map((v) => `${v.errors.join('; ')}:\n${v.sql}`);
  if (refused.length > 0) throw new Error(`Athena's DDL grammar refuses ${refused.length} statement(s):\n\n${refused.join('\n\n')}`);
  expect(verdicts.map((v) => v.sql)).toEqual(statements);
  expect(status, stderr).toBe(0);
}

/** A copy of the repository's ddl/ with more files in it. */
function ddlWith(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coattail-grammar-'));
  tempDirs.push(dir);
  for (const name of readdirSync(path.join(ROOT, 'ddl'))) {
    if (name.endsWith('.sql')) copyFileSync(path.join(ROOT, 'ddl', name), path.join(dir, name));
  }
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const TABLE_FILES = [
  'alerts.sql',
  'anomalies.sql',
  'anomalies_reprocessed.sql',
  'raw_trades.sql',
  'spreads.sql',
  'volume_aggregates.sql',
  'whale_trades.sql',
];
/** A comment with the SQL-standard doubled quote: Athena's queries take it, its (Hive) DDL grammar does not. */
const REFUSED =
  "CREATE TABLE IF NOT EXISTS `crypto_pulse`.`whales` (\n  `trade_id` string COMMENT 'the exchange''s trade id'\n)\nLOCATION 's3://my-coattail/warehouse/crypto_pulse/whales/'\nTBLPROPERTIES ('table_type'='ICEBERG')";

describe("Athena's DDL grammar takes every statement ddl apply sends", () => {
  beforeAll(() => {
    expect(existsSync(PYTHON), `the jobs' Python environment is needed: run make install-py (no ${PYTHON})`).toBe(true);
  });

  it('the database, the seven tables of ddl/ and its migrations', () => {
    const plan = planDdl(path.join(ROOT, 'ddl'), BUCKET);
    expect(plan.filter((s) => !s.migration).map((s) => s.file)).toEqual(['(database)', ...TABLE_FILES]);
    expectAthenaTakes(plan.map((s) => s.sql));
  });

  it("the schema-evolution demo's change, applied as a migration", () => {
    const { status, stdout, stderr } = python([
      '-c',
      'from coattail_jobs.batch.schema_evolution import add_column_sql; print(add_column_sql("`crypto_pulse`.`schema_evolution_demo`"))',
    ]);
    expect(status, stderr).toBe(0);
    const plan = planDdl(ddlWith({ 'migrations/0001_add_ingest_source.sql': stdout }), BUCKET);
    const migrations = plan.filter((s) => s.migration);
    expect(migrations.map((s) => s.sql)).toEqual([
      "ALTER TABLE `crypto_pulse`.`schema_evolution_demo` ADD COLUMNS (ingest_source string COMMENT 'websocket or rest (historical-loader)')",
    ]);
    expectAthenaTakes(plan.map((s) => s.sql));
  });

  it('fails, naming the statement, when one is refused', () => {
    const plan = planDdl(ddlWith({ 'whales.sql': `${REFUSED}\n` }), BUCKET);
    const sent = plan.map((s) => s.sql);
    expect(sent).toContain(REFUSED);
    // One run of the parser serves every assertion on this plan.
    const got = athenaVerdicts(sent);
    expect(() => expectAthenaTakes(sent, got)).toThrow(`Athena's DDL grammar refuses 1 statement(s):\n\n`);
    expect(() => expectAthenaTakes(sent, got)).toThrow(`:\n${REFUSED}`);

    const { status, verdicts } = got;
    expect(status).toBe(1);
    expect(verdicts.filter((v) => v.errors.length > 0).map((v) => v.sql)).toEqual([REFUSED]);
    // Hive's own escape is taken.
    expect(athenaVerdicts([REFUSED.replace("''", "\\'")]).status).toBe(0);
  });

  it('refuses input that is not a list of statements', () => {
    const { status, stderr } = python(['-m', 'tests.athena_ddl'], '{"statements": []}');
    expect(status).toBe(2);
    expect(stderr).toBe('athena_ddl: stdin must be a JSON array of statements (strings)\n');
  });
});
