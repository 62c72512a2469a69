"""Athena's DDL grammar, as a test can hold statements to it without AWS: sqlglot's ``athena`` dialect.

Athena runs queries with Trino's SQL but DDL (CREATE TABLE, ALTER TABLE) with Hive's grammar: string
literals escape with a backslash, and ``COMMENT`` takes one literal, so the SQL-standard doubled quote
(``'the exchange''s id'``) is an error there. sqlglot's athena dialect parses DDL with its Hive grammar,
an independent reading of the same rules.

``python -m tests.athena_ddl`` (from jobs-py) reads a JSON array of statements on stdin and prints one JSON
object per statement, ``{"sql": ..., "errors": [...]}``; the exit status is 1 when any has errors, 2 when
the input is not an array of strings.
"""

from __future__ import annotations

import json
import sys

import sqlglot
from sqlglot import expressions as exp
from sqlglot.errors import ParseError

DDL = (exp.Create, exp.Alter)


def athena_ddl_errors(sql: str) -> list[str]:
    """Why Athena's DDL grammar refuses ``sql`` (one statement); empty when it parses as CREATE or ALTER."""
    try:
        parsed = [e for e in sqlglot.parse(sql, read="athena") if e is not None]
    except ParseError as err:
        return [
            str(error.get("description")) + f" (line {error.get('line')}, column {error.get('col')})"
            for error in err.errors
        ]
    if len(parsed) != 1:
        return [f"{len(parsed)} statements where one was expected"]
    (statement,) = parsed
    if isinstance(statement, exp.Command):
        # sqlglot keeps what it cannot parse as an opaque command: that is no proof the grammar takes it.
        return [f"not parsed: {statement.sql()[:80]!r} is kept as an opaque command"]
    if not isinstance(statement, DDL):
        return [f"a {type(statement).__name__} statement, not CREATE or ALTER"]
    return []


def main() -> int:
    try:
        statements = json.loads(sys.stdin.read())
    except ValueError as err:
        print(f"athena_ddl: stdin is not JSON: {err}", file=sys.stderr)
        return 2
    if not isinstance(statements, list) or not all(isinstance(s, str) for s in statements):
        print("athena_ddl: stdin must be a JSON array of statements (strings)", file=sys.stderr)
        return 2
    rejected = 0
    for sql in statements:
        errors = athena_ddl_errors(sql)
        rejected += bool(errors)
        print(json.dumps({"sql": sql, "errors": errors}))
    return 1 if rejected else 0


if __name__ == "__main__":
    sys.exit(main())
