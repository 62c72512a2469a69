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
    TimestampType,
)

from coattail_jobs.ddl import render_all
from coattail_jobs.schemas import TABLES, UNIFIED_TRADE, TableSpec

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


def test_the_unified_trade_agrees_with_the_producers_json_schema() -> None:
    schema = json.loads((REPO / "docs" / "unified-trade.schema.json").read_text())
    props = schema["properties"]
    assert [f.name for f in UNIFIED_TRADE.fields] == list(props)
    json_type: dict[DataType, str] = {StringType(): "string", DoubleType(): "number", IntegerType(): "number"}
    for f in UNIFIED_TRADE.fields:
        assert props[f.name]["type"] == json_type[f.dataType], f.name
