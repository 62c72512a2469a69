"""Athena DDL for the Iceberg tables, rendered from the StructTypes in ``schemas`` (one source of truth).

``python -m coattail_jobs ddl --out ../ddl`` writes one file per table; a test keeps ``ddl/`` equal to
this rendering and checks every column and type against the schemas. Athena specifics: Iceberg tables
are created with ``TBLPROPERTIES ('table_type'='ICEBERG')`` (there is no ``STORED AS ICEBERG``), the day
transform is ``day(col)`` (there is no ``date()``), identifiers are quoted with backticks, and the statements
follow Hive's DDL grammar, which Athena uses for DDL (its queries are Trino's SQL): see ``_comment``.
"""

from __future__ import annotations

import re
from pathlib import Path

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    TimestampType,
)

from .config import DATABASE
from .schemas import TABLES, TableSpec

# Where `coattail ddl apply` puts the tables; it substitutes the bucket at apply time.
LOCATION_TEMPLATE = "s3://${bucket}/warehouse/" + DATABASE + "/TABLE/"
TRANSFORM = re.compile(r"^(day|month|year|hour)\(([a-z][a-z0-9_]*)\)$")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


def athena_type(dtype: DataType) -> str:
    """The Athena (Iceberg) type name of a Spark type."""
    if isinstance(dtype, StringType):
        return "string"
    if isinstance(dtype, DoubleType):
        return "double"
    if isinstance(dtype, IntegerType):
        return "int"
    if isinstance(dtype, LongType):
        return "bigint"
    if isinstance(dtype, BooleanType):
        return "boolean"
    if isinstance(dtype, TimestampType):
        return "timestamp"
    if isinstance(dtype, ArrayType):
        return f"array<{athena_type(dtype.elementType)}>"
    raise ValueError(f"no Athena type for {dtype.simpleString()}")


# Athena runs DDL with Hive's grammar, not Trino's: a literal escapes with a backslash, and the SQL-standard
# doubled quote ('it''s') is two literals, which COMMENT refuses. Comments hold no quote or backslash, so
# the literal reads the same in either grammar (and in Spark SQL, for ddl apply --local).
_UNQUOTABLE = re.compile(r"['\"`\\]")


def _comment(text: str, where: str) -> str:
    if _UNQUOTABLE.search(text):
        raise ValueError(f"{where}: comment {text!r} has a quote or a backslash; word it without")
    return f"'{text}'"


def _partition(spec: TableSpec, field: str) -> str:
    """A partition field: a plain column (quoted) or an Iceberg transform such as ``day(trade_time)``."""
    names = set(spec.schema.fieldNames())
    m = TRANSFORM.match(field)
    column = m.group(2) if m else field
    if column not in names:
        raise ValueError(f"{spec.name} is partitioned by {field!r}, which names no column")
    return field if m else f"`{field}`"


def render_table(spec: TableSpec) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for one table, as Athena runs it."""
    if not IDENTIFIER.match(spec.name):
        raise ValueError(f"table name {spec.name!r} is not a plain identifier")
    columns = []
    for f in spec.schema.fields:
        if not IDENTIFIER.match(f.name):
            raise ValueError(f"column name {f.name!r} of {spec.name} is not a plain identifier")
        comment = f.metadata.get("comment", "")
        columns.append(
            f"  `{f.name}` {athena_type(f.dataType)}"
            + (f" COMMENT {_comment(comment, f'{spec.name}.{f.name}')}" if comment else "")
        )
    partitions = ", ".join(_partition(spec, p) for p in spec.partitioning)
    body = ",\n".join(columns)
    location = LOCATION_TEMPLATE.replace("TABLE", spec.name)
    return (
        f"-- {spec.name}: {spec.comment}. Rendered from coattail_jobs/schemas.py; do not edit by hand.\n"
        f"CREATE TABLE IF NOT EXISTS `{DATABASE}`.`{spec.name}` (\n{body}\n)\n"
        f"PARTITIONED BY ({partitions})\n"
        f"LOCATION '{location}'\n"
        "TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet', 'write_compression'='zstd')\n"
    )


def render_all() -> dict[str, str]:
    """File name → DDL text, one file per table."""
    return {f"{spec.name}.sql": render_table(spec) for spec in TABLES}


def write_all(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all().items():
        path = out_dir / name
        path.write_text(text)
        written.append(path)
    return written
