"""`coattail ddl apply --local`: Athena DDL translated to Spark SQL and applied to the local Iceberg catalog."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from coattail_jobs.ddl_local import UnsupportedStatement, apply_statements, athena_to_spark, read_plan
from coattail_jobs.schemas import RAW_TRADES

REPO = Path(__file__).resolve().parents[2]


def test_a_create_table_loses_location_and_properties_and_gains_using_iceberg() -> None:
    athena = (
        "-- demo: a comment line\n"
        "CREATE TABLE IF NOT EXISTS `crypto_pulse`.`demo` (\n"
        "  `id` string COMMENT 'the trade''s id',\n"
        "  `at` timestamp COMMENT 'a \\\\ b'\n"
        ")\n"
        "PARTITIONED BY (day(at), `id`)\n"
        "LOCATION 's3://bucket/warehouse/crypto_pulse/demo/'\n"
        "TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet')\n"
    )
    assert athena_to_spark(athena) == (
        "CREATE TABLE IF NOT EXISTS coattail.`crypto_pulse`.`demo` (\n"
        "  `id` string COMMENT 'the trade\\'s id',\n"
        "  `at` timestamp COMMENT 'a \\\\\\\\ b'\n"
        ")\n"
        "USING iceberg\n"
        "PARTITIONED BY (days(at), `id`)"
    )


def test_database_and_add_columns_statements() -> None:
    assert athena_to_spark("CREATE DATABASE IF NOT EXISTS `crypto_pulse`") == (
        "CREATE NAMESPACE IF NOT EXISTS coattail.`crypto_pulse`"
    )
    assert athena_to_spark("ALTER TABLE crypto_pulse.raw_trades ADD COLUMNS (venue string COMMENT 'where')") == (
        "ALTER TABLE coattail.`crypto_pulse`.`raw_trades` ADD COLUMNS (venue string COMMENT 'where')"
    )
    with pytest.raises(UnsupportedStatement):
        athena_to_spark("DROP TABLE crypto_pulse.raw_trades")


def test_bad_plans_are_refused() -> None:
    assert read_plan('{"statements": []}') == []
    for text in ('{"steps": []}', '{"statements": [{"key": "k", "file": "f"}]}', "[]"):
        with pytest.raises(ValueError):
            read_plan(text)


def test_a_bad_plan_exits_2_before_starting_spark() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "coattail_jobs", "ddl-apply-local"],
        input="not json",
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr.startswith("coattail_jobs: ddl-apply-local: bad plan on stdin:")


def _events(out: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_the_real_ddl_and_a_migration_apply_to_the_local_catalog(spark: SparkSession) -> None:
    database = f"ddl_local_{uuid.uuid4().hex[:8]}"
    ddl = (REPO / "ddl" / "raw_trades.sql").read_text().replace("`crypto_pulse`", f"`{database}`")
    statements = [
        {"key": "db", "file": "(database)", "sql": f"CREATE DATABASE IF NOT EXISTS `{database}`"},
        {"key": "t", "file": "raw_trades.sql", "sql": ddl},
        {
            "key": "m",
            "file": "migrations/0001_venue.sql",
            "sql": f"ALTER TABLE `{database}`.`raw_trades` ADD COLUMNS (venue string)",
        },
    ]
    out = io.StringIO()
    assert apply_statements(spark, statements, out) == 0
    assert _events(out) == [
        {"event": "applied", "key": "db", "file": "(database)"},
        {"event": "applied", "key": "t", "file": "raw_trades.sql"},
        {"event": "applied", "key": "m", "file": "migrations/0001_venue.sql"},
    ]
    table = spark.table(f"coattail.{database}.raw_trades")
    expected = [(f.name, f.dataType.simpleString()) for f in RAW_TRADES.fields] + [("venue", "string")]
    assert [(f.name, f.dataType.simpleString()) for f in table.schema.fields] == expected
    described = spark.sql(f"DESCRIBE TABLE coattail.{database}.raw_trades").collect()
    parts = [row["data_type"] for row in described if str(row["col_name"]).startswith("Part ")]
    assert parts == ["days(trade_time)", "symbol"]

    # Applying the same ADD COLUMNS again fails (which is why the caller keeps a ledger); nothing after it runs.
    again = io.StringIO()
    rerun = [statements[1], statements[2], {"key": "never", "file": "x.sql", "sql": statements[0]["sql"]}]
    assert apply_statements(spark, rerun, again) == 1
    events = _events(again)
    assert events[0] == {"event": "applied", "key": "t", "file": "raw_trades.sql"}  # IF NOT EXISTS: a no-op
    assert events[1]["event"] == "failed" and events[1]["key"] == "m"
    assert "venue" in events[1]["reason"] and "\n" not in events[1]["reason"]
    assert len(events) == 2
