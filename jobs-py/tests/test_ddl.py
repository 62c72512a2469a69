"""The Athena DDL in ddl/ and the StructTypes in schemas agree, column for column."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from coattail_jobs.batch.schema_evolution import DEMO_SPEC, DEMO_TABLE, add_column_sql
from coattail_jobs.config import DATABASE
from coattail_jobs.ddl import render_all, render_table
from coattail_jobs.schemas import TABLES, UNIFIED_TRADE, TableSpec

from .athena_ddl import athena_ddl_errors

REPO = Path(__file__).resolve().parents[2]
DDL_DIR = REPO / "ddl"

# Written out by hand, independently of coattail_jobs.ddl.athena_type.
EXPECTED_TYPE: dict[DataType, str] = {
    StringType(): "string",
    DoubleType(): "double",
    IntegerType(): "int",
    LongType(): "bigint",
    BooleanType(): "boolean",
    TimestampType(): "timestamp",
}


def expected_type(dtype: DataType) -> str:
    if isinstance(dtype, ArrayType):
        return f"array<{expected_type(dtype.elementType)}>"
    return EXPECTED_TYPE[dtype]


def test_ddl_files_are_the_rendering_of_the_schemas() -> None:
    rendered = render_all()
    on_disk = {p.name: p.read_text() for p in DDL_DIR.glob("*.sql")}
    assert on_disk == rendered, "ddl/ is stale: run `python -m coattail_jobs ddl` in jobs-py"


@pytest.mark.parametrize("spec", TABLES, ids=lambda s: s.name)
def test_every_column_and_type_matches_the_struct_type(spec: TableSpec) -> None:
    sql = (DDL_DIR / f"{spec.name}.sql").read_text()
    columns = re.findall(r"^  `([a-z0-9_]+)` ([a-z<>]+)", sql, flags=re.M)
    assert columns == [(f.name, expected_type(f.dataType)) for f in spec.schema.fields]


@pytest.mark.parametrize("spec", TABLES, ids=lambda s: s.name)
def test_valid_athena_iceberg_ddl(spec: TableSpec) -> None:
    sql = (DDL_DIR / f"{spec.name}.sql").read_text()
    assert f"CREATE TABLE IF NOT EXISTS `crypto_pulse`.`{spec.name}` (" in sql
    assert "TBLPROPERTIES ('table_type'='ICEBERG'" in sql
    assert re.search(r"^LOCATION 's3://[^']+/'$", sql, flags=re.M)
    assert "STORED AS" not in sql and "date(" not in sql  # Athena has neither for Iceberg
    partitioned = re.search(r"^PARTITIONED BY \((.+)\)$", sql, flags=re.M)
    assert partitioned is not None
    names = set(spec.schema.fieldNames())
    for part in partitioned.group(1).split(", "):
        column = re.sub(r"^(day|month|year|hour)\((\w+)\)$", r"\2", part).strip("`")
        assert column in names, f"{spec.name} partitioned by {part}, no such column"
    # Event-time tables are partitioned by day of their time column, then symbol (or alert type).
    assert partitioned.group(1).startswith("day(")


@pytest.mark.parametrize("spec", TABLES, ids=lambda s: s.name)
def test_athenas_ddl_grammar_takes_every_table(spec: TableSpec) -> None:
    # As ddl apply sends it: the bucket filled in (the `--` line is a comment to both).
    sql = (DDL_DIR / f"{spec.name}.sql").read_text().replace("${bucket}", "my-coattail")
    assert athena_ddl_errors(sql) == []


TABLE_WITH = "CREATE TABLE IF NOT EXISTS `crypto_pulse`.`t` (\n  `id` string COMMENT {}\n)\nLOCATION 's3://b/t/'"


@pytest.mark.parametrize(
    ("sql", "refused"),
    [
        # The SQL-standard doubled quote is two literals to Hive's grammar, and COMMENT takes one.
        (TABLE_WITH.format("'the exchange''s trade id'"), True),
        (TABLE_WITH.format("'the exchange\\'s trade id'"), False),  # Hive's escape
        (TABLE_WITH.format("'trade id on the exchange'"), False),
        ("ALTER TABLE `crypto_pulse`.`t` ADD COLUMNS (`venue` string COMMENT 'the venue''s name')", True),
        ("ALTER TABLE `crypto_pulse`.`t` ADD COLUMNS (`venue` string COMMENT 'where', `tags` array<string>)", False),
        ("ALTER TABLE `crypto_pulse`.`t` ADD COLUMNS (`venue` strin)", True),
        ("CREATE DATABASE IF NOT EXISTS `crypto_pulse`", False),
        ("DROP TABLE `crypto_pulse`.`t`", True),  # parses, but is no CREATE or ALTER
        ("CREATE TABLE IF NOT EXISTS t (a string); CREATE TABLE IF NOT EXISTS u (b string)", True),
    ],
)
def test_the_grammar_check_refuses_what_athena_refuses(sql: str, refused: bool) -> None:
    assert bool(athena_ddl_errors(sql)) is refused, athena_ddl_errors(sql)


@pytest.mark.parametrize("comment", ["the exchange's trade id", 'a "quoted" id', "a `ticked` id", "C:\\ids"])
def test_a_comment_athena_could_misread_is_refused_when_rendering(comment: str) -> None:
    spec = TableSpec("t", StructType([StructField("id", StringType(), True, {"comment": comment})]), ("id",), "t")
    with pytest.raises(ValueError, match=r"^t\.id: comment .* has a quote or a backslash"):
        render_table(spec)


def test_the_schema_evolution_demos_statements_are_athena_ddl() -> None:
    # Its table's DDL, as ddl apply would create it, and its change, as a migration would hold it.
    table_ddl = render_table(DEMO_SPEC).replace("${bucket}", "my-coattail")
    assert athena_ddl_errors(table_ddl) == []
    assert athena_ddl_errors(add_column_sql(f"`{DATABASE}`.`{DEMO_TABLE}`")) == []
    assert (
        add_column_sql("t")
        == "ALTER TABLE t ADD COLUMNS (ingest_source string COMMENT 'websocket or rest (historical-loader)')"
    )


def test_the_unified_trade_agrees_with_the_producers_json_schema() -> None:
    schema = json.loads((REPO / "docs" / "unified-trade.schema.json").read_text())
    props = schema["properties"]
    assert [f.name for f in UNIFIED_TRADE.fields] == list(props)
    json_type: dict[DataType, str] = {StringType(): "string", DoubleType(): "number", IntegerType(): "number"}
    for f in UNIFIED_TRADE.fields:
        assert props[f.name]["type"] == json_type[f.dataType], f.name
