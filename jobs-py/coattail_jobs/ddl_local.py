"""The Athena DDL applied to the local Iceberg warehouse through Spark SQL (``coattail ddl apply --local``).

``coattail ddl apply`` decides what is pending (its ledger of applied statements) and sends those, in order,
as a JSON plan on stdin: ``{"statements": [{"key": ..., "file": ..., "sql": ...}]}``. Each statement is
translated from Athena's dialect to Spark SQL on the local catalog and run. One JSON line per statement goes
to stdout (``{"event": "applied", ...}``); the first failure ends the run with ``{"event": "failed", ...,
"reason": ...}`` and status 1, so the caller records exactly the statements that were applied.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

from .config import CATALOG, JobConfig, local_spark_conf

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_IDENT = r"[a-z][a-z0-9_]*"
_DATABASE = re.compile(rf"^CREATE\s+(?:DATABASE|SCHEMA)\s+IF\s+NOT\s+EXISTS\s+(`?)({_IDENT})\1$", re.I)
_TABLE = re.compile(
    rf"^(CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS|ALTER\s+TABLE)\s+(`?)({_IDENT})\2\.(`?)({_IDENT})\4(?=[\s(])", re.I
)
# Athena names the Iceberg partition transforms day(), month(), ...; Spark's SQL spells them days(), months().
_TRANSFORM = re.compile(r"\b(year|month|day|hour)\(")


class UnsupportedStatement(ValueError):
    """A statement this translation does not know: reported as that statement's failure."""


def _spark_literals(sql: str) -> str:
    """Athena's string literals in Spark's spelling: Athena doubles a quote (``'it''s'``) and takes backslashes
    as they are; Spark escapes both with a backslash."""
    out: list[str] = []
    i, quoted = 0, False
    while i < len(sql):
        ch = sql[i]
        if not quoted:
            quoted = ch == "'"
            out.append(ch)
        elif ch == "'" and sql[i + 1 : i + 2] == "'":
            out.append("\\'")
            i += 1
        elif ch == "'":
            quoted = False
            out.append(ch)
        else:
            out.append("\\\\" if ch == "\\" else ch)
        i += 1
    return "".join(out)


def athena_to_spark(statement: str, catalog: str = CATALOG) -> str:
    """Athena DDL as Spark SQL on ``catalog``: tables are qualified with the catalog; a CREATE TABLE loses its
    S3 ``LOCATION`` and Athena's ``TBLPROPERTIES`` (the local Hadoop catalog places tables itself) and gains
    ``USING iceberg``; ``ALTER TABLE ... ADD COLUMNS`` reads the same in both dialects."""
    lines = [line for line in statement.splitlines() if not line.lstrip().startswith("--")]
    sql = "\n".join(lines).strip().rstrip(";").strip()
    database = _DATABASE.match(sql)
    if database:
        return f"CREATE NAMESPACE IF NOT EXISTS {catalog}.`{database.group(2)}`"
    table = _TABLE.match(sql)
    if not table:
        first = sql.splitlines()[0] if sql else "(empty)"
        raise UnsupportedStatement(f"not CREATE DATABASE, CREATE TABLE IF NOT EXISTS or ALTER TABLE: {first}")
    head = f"{table.group(1)} {catalog}.`{table.group(3)}`.`{table.group(5)}`"
    rest = sql[table.end() :]
    if table.group(1).upper().startswith("CREATE"):
        rest = re.sub(r"^LOCATION\s+'[^']*'[ \t]*\n?", "", rest, flags=re.M | re.I)
        rest = re.sub(r"^TBLPROPERTIES\s*\(.*\)[ \t]*\n?", "", rest, flags=re.M | re.I)
        partitioned = re.search(r"^PARTITIONED BY \((.*)\)[ \t]*$", rest, flags=re.M | re.I)
        if partitioned:
            spark_parts = _TRANSFORM.sub(r"\1s(", partitioned.group(1))
            rest = (
                rest[: partitioned.start()]
                + f"USING iceberg\nPARTITIONED BY ({spark_parts})"
                + rest[partitioned.end() :]
            )
        else:
            rest = rest.rstrip() + "\nUSING iceberg"
    return _spark_literals((head + rest).strip())


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


def _emit(out: TextIO, event: dict[str, Any]) -> None:
    out.write(json.dumps(event) + "\n")
    out.flush()


def apply_statements(spark: SparkSession, statements: list[dict[str, str]], out: TextIO) -> int:
    """Runs the statements in order; 0 when all were applied, 1 at the first failure (nothing after it runs)."""
    for st in statements:
        try:
            spark.sql(athena_to_spark(st["sql"]))
        except Exception as err:  # any failure of this statement is its outcome, reported to the caller
            _emit(out, {"event": "failed", "key": st["key"], "file": st["file"], "reason": _first_line(err)})
            return 1
        _emit(out, {"event": "applied", "key": st["key"], "file": st["file"]})
    return 0


def read_plan(text: str) -> list[dict[str, str]]:
    """The statements of a plan; ValueError when it is not ``{"statements": [{"key", "file", "sql"}, ...]}``."""
    plan = json.loads(text)
    statements = plan.get("statements") if isinstance(plan, dict) else None
    if not isinstance(statements, list):
        raise ValueError('the plan is not {"statements": [...]}')
    for st in statements:
        if not isinstance(st, dict) or not all(isinstance(st.get(k), str) for k in ("key", "file", "sql")):
            raise ValueError("every statement needs key, file and sql as strings")
    return statements


def run_from_stdin(warehouse: str) -> int:
    try:
        statements = read_plan(sys.stdin.read())
    except ValueError as err:
        print(f"coattail_jobs: ddl-apply-local: bad plan on stdin: {_first_line(err)}", file=sys.stderr)
        return 2
    if not statements:
        return 0
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("coattail-ddl-apply-local")
    for key, value in local_spark_conf(JobConfig(job="ddl", warehouse=warehouse)).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        return apply_statements(spark, statements, sys.stdout)
    finally:
        spark.stop()
