/**
 * What `ddl apply` would send, in order, from the DDL folder:
 *   1. CREATE DATABASE IF NOT EXISTS for the one database the tables name;
 *   2. every `ddl/*.sql` (CREATE TABLE IF NOT EXISTS), by file name;
 *   3. every `ddl/migrations/NNNN_name.sql` (ALTER TABLE ... ADD COLUMNS), by number.
 * Each statement's key is its file and the sha256 of the statement as sent; `${bucket}` is the only
 * placeholder and is filled in first.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CoattailError, errorMessage, usageError } from '../core/errors.js';
import { parseStatement, splitStatements, type StatementKind } from './statements.js';

export const MIGRATIONS_DIR = 'migrations';
export const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;
export const DATABASE_STEP = '(database)';

export interface PlannedStatement {
  key: string;
  /** Path relative to the DDL folder (`raw_trades.sql`, `migrations/0001_add_venue.sql`), or `(database)`. */
  file: string;
  sha256: string;
  sql: string;
  kind: StatementKind;
  database: string;
  table?: string | undefined;
  /** Migrations are applied once, ever: changing one after it was applied is refused. */
  migration: boolean;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function fill(text: string, bucket: string, file: string): string {
  const filled = text.split('${bucket}').join(bucket);
  const left = /\$\{[^}]*\}/.exec(filled);
  if (left)
    throw usageError(`${file}: unknown placeholder ${left[0]}`, '${bucket} is the only placeholder ddl apply fills in', `fix ${file}`);
  return filled;
}

function read(dir: string, rel: string): string {
  try {
    return readFileSync(path.join(dir, rel), 'utf8');
  } catch (err) {
    throw new CoattailError(`cannot read ${path.join(dir, rel)}`, errorMessage(err), 'check the DDL folder (--ddl-dir)');
  }
}

function planned(
  file: string,
  sql: string,
  kind: StatementKind,
  database: string,
  table: string | undefined,
  migration: boolean,
): PlannedStatement {
  const hash = sha256(sql);
  return { key: `${file}#${hash}`, file, sha256: hash, sql, kind, database, table, migration };
}

export function planDdl(dir: string, bucket: string): PlannedStatement[] {
  if (!existsSync(dir))
    throw usageError(
      `the DDL folder ${dir} does not exist`,
      'ddl apply reads ddl/*.sql and ddl/migrations/*.sql',
      'pass --ddl-dir, or reinstall coattail (it ships ddl/)',
    );
  const tableFiles = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.sql'))
    .map((e) => e.name)
    .sort();
  const migrationsDir = path.join(dir, MIGRATIONS_DIR);
  const migrationFiles = existsSync(migrationsDir)
    ? readdirSync(migrationsDir)
        .filter((n) => n.endsWith('.sql'))
        .sort()
    : [];
  const numbers = new Map<string, string>();
  for (const name of migrationFiles) {
    const m = MIGRATION_FILE.exec(name);
    if (!m)
      throw usageError(
        `ddl/${MIGRATIONS_DIR}/${name} is not named NNNN_name.sql`,
        'migrations run in the order of their four-digit numbers',
        'rename it, e.g. 0001_add_venue.sql (lower case, digits, underscores)',
      );
    const clash = numbers.get(m[1]!);
    if (clash)
      throw usageError(
        `two migrations are numbered ${m[1]}: ${clash} and ${name}`,
        'each number runs once, in order',
        'renumber one of them',
      );
    numbers.set(m[1]!, name);
  }

  const steps: PlannedStatement[] = [];
  for (const name of tableFiles) {
    for (const sql of splitStatements(fill(read(dir, name), bucket, name))) {
      const st = parseStatement(sql, name);
      if (st.kind !== 'create-table')
        throw usageError(
          `${name}: a table file holds CREATE TABLE IF NOT EXISTS statements`,
          `it has a ${st.kind} statement`,
          `move it to ddl/${MIGRATIONS_DIR}/NNNN_name.sql`,
        );
      steps.push(planned(name, st.sql, st.kind, st.database, st.table, false));
    }
  }
  for (const name of migrationFiles) {
    const rel = `${MIGRATIONS_DIR}/${name}`;
    for (const sql of splitStatements(fill(read(dir, rel), bucket, rel))) {
      const st = parseStatement(sql, rel);
      if (st.kind !== 'add-columns')
        throw usageError(
          `${rel}: a migration holds ALTER TABLE ... ADD COLUMNS statements`,
          `it has a ${st.kind} statement`,
          'put CREATE TABLE statements in ddl/*.sql',
        );
      steps.push(planned(rel, st.sql, st.kind, st.database, st.table, true));
    }
  }
  const databases = [...new Set(steps.map((s) => s.database))];
  if (databases.length > 1)
    throw usageError(
      `the DDL names several databases: ${databases.join(', ')}`,
      'coattail keeps its tables in one database',
      'use one database name in every file',
    );
  if (databases.length === 0) return [];
  const database = databases[0]!;
  return [planned(DATABASE_STEP, `CREATE DATABASE IF NOT EXISTS \`${database}\``, 'create-database', database, undefined, false), ...steps];
}
