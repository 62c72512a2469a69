/**
 * The DDL's statements: split on `;` (outside quotes, backticks and comments), comments removed, and each
 * checked against the only shapes `ddl apply` runs — CREATE DATABASE IF NOT EXISTS, CREATE TABLE IF NOT
 * EXISTS (both idempotent) and ALTER TABLE ... ADD COLUMNS — with every database, table and column name held
 * to a strict identifier pattern before anything reaches Athena.
 */
import { usageError } from '../core/errors.js';

/** Athena (Glue) identifiers as coattail writes them: lower case, digits, underscores. */
export const IDENTIFIER = /^[a-z][a-z0-9_]{0,127}$/;

export type StatementKind = 'create-database' | 'create-table' | 'add-columns';

export interface ParsedStatement {
  kind: StatementKind;
  database: string;
  table?: string | undefined;
  /** The statement as sent: comments removed, no trailing semicolon. */
  sql: string;
}

export function checkIdentifier(name: string, what: string, where: string): string {
  if (!IDENTIFIER.test(name)) {
    throw usageError(
      `${where}: ${what} name '${name}' is not allowed`,
      'names are lower-case letters, digits and underscores, starting with a letter',
      `rename it in ${where}`,
    );
  }
  return name;
}

/** Splits SQL text into statements, dropping `--` and `/* *\/` comments outside quotes. */
export function splitStatements(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === '-' && next === '-') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      current += ' ';
      continue;
    }
    if (ch === "'" || ch === '`' || ch === '"') {
      // A quoted run, with the doubled quote as its escape.
      let j = i + 1;
      for (;;) {
        if (j >= text.length) break;
        if (text[j] === ch) {
          if (text[j + 1] === ch) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      current += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === ';') {
      statements.push(current);
      current = '';
      i++;
      continue;
    }
    current += ch;
    i++;
  }
  statements.push(current);
  return statements
    .map((s) =>
      s
        .replace(/[ \t]+$/gm, '')
        .replace(/\n{2,}/g, '\n')
        .trim(),
    )
    .filter((s) => s.length > 0);
}

const NAME = '(`[^`]*`|[^\\s.`(;]+)';
const CREATE_DATABASE = new RegExp(`^CREATE\\s+(?:DATABASE|SCHEMA)\\s+IF\\s+NOT\\s+EXISTS\\s+${NAME}$`, 'i');
const CREATE_TABLE = new RegExp(`^CREATE\\s+(?:EXTERNAL\\s+)?TABLE\\s+IF\\s+NOT\\s+EXISTS\\s+${NAME}\\.${NAME}\\s*\\(`, 'i');
const ADD_COLUMNS = new RegExp(`^ALTER\\s+TABLE\\s+${NAME}\\.${NAME}\\s+ADD\\s+COLUMNS\\s*\\(([\\s\\S]*)\\)$`, 'i');

function unquote(name: string): string {
  return name.startsWith('`') && name.endsWith('`') ? name.slice(1, -1) : name;
}

/** Splits a column list at its top-level commas (not those inside <...>, (...) or quotes). */
export function topLevelItems(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let current = '';
  for (const ch of list) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '`') quote = ch;
    else if (ch === '<' || ch === '(') depth++;
    else if (ch === '>' || ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      items.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  if (current.trim()) items.push(current.trim());
  return items;
}

export function parseStatement(sql: string, where: string): ParsedStatement {
  const db = CREATE_DATABASE.exec(sql);
  if (db) return { kind: 'create-database', database: checkIdentifier(unquote(db[1]!), 'database', where), sql };
  const table = CREATE_TABLE.exec(sql);
  if (table) {
    return {
      kind: 'create-table',
      database: checkIdentifier(unquote(table[1]!), 'database', where),
      table: checkIdentifier(unquote(table[2]!), 'table', where),
      sql,
    };
  }
  const add = ADD_COLUMNS.exec(sql);
  if (add) {
    const columns = topLevelItems(add[3]!);
    if (columns.length === 0)
      throw usageError(`${where}: ADD COLUMNS lists no column`, 'a migration adds at least one column', `fix ${where}`);
    for (const column of columns) checkIdentifier(unquote(/^(`[^`]*`|\S+)/.exec(column)![1]!), 'column', where);
    return {
      kind: 'add-columns',
      database: checkIdentifier(unquote(add[1]!), 'database', where),
      table: checkIdentifier(unquote(add[2]!), 'table', where),
      sql,
    };
  }
  const first = sql.split('\n')[0]!.slice(0, 80);
  throw usageError(
    `${where}: unsupported statement '${first}'`,
    'ddl apply runs CREATE DATABASE IF NOT EXISTS, CREATE TABLE IF NOT EXISTS (ddl/*.sql) and ALTER TABLE ... ADD COLUMNS (ddl/migrations/NNNN_*.sql)',
    `change ${where} to one of those`,
  );
}
