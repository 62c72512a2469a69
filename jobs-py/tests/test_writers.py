"""The sinks against real parts: Iceberg in a local warehouse, alerts in dynalite; AWS errors stubbed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from coattail_jobs.schemas import TABLES_BY_NAME, WHALE_ALERT
from coattail_jobs.writers import AlertWriteError, ensure_tables, merge_into_iceberg, put_alerts


def test_alerts_are_written_once_however_often_a_batch_is_replayed(dynamodb: Any, alerts_table: str) -> None:
    client, table = dynamodb, alerts_table
    items = [
        {
            "alert_id": f"whale:binance:BTC-USDT:{i}",
            "alert_type": "whale",
            "alert_time": f"2024-05-01T12:00:0{i}.000Z",
            "quote_volume": 150000.5,
        }
        for i in range(3)
    ]
    first = put_alerts(client, table, items)
    replay = put_alerts(client, table, items)
    assert (first.written, first.already_written) == (3, 0)
    assert (replay.written, replay.already_written) == (0, 3)
    newest = client.query(
        TableName=table,
        IndexName="by_type_time",
        KeyConditionExpression="alert_type = :t",
        ExpressionAttributeValues={":t": {"S": "whale"}},
        ScanIndexForward=False,
    )["Items"]
    assert [i["alert_id"]["S"] for i in newest] == [f"whale:binance:BTC-USDT:{i}" for i in (2, 1, 0)]
    assert newest[0]["quote_volume"] == {"N": "150000.5"}
    assert newest[0]["written_at"]["S"].endswith("Z")


def test_throttling_is_retried_and_other_errors_raise() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    item = {"alert_id": "spread:BTC-USDT:2024-05-01T12:00:00.000Z", "alert_type": "spread"}
    expected = {
        "TableName": "alerts",
        "Item": {
            "alert_id": {"S": item["alert_id"]},
            "alert_type": {"S": "spread"},
            "written_at": {"S": "2024-05-01T12:00:00.000Z"},
        },
        "ConditionExpression": "attribute_not_exists(alert_id)",
    }
    fixed_now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    with Stubber(client) as stub:
        stub.add_client_error("put_item", "ProvisionedThroughputExceededException", expected_params=expected)
        stub.add_response("put_item", {}, expected_params=expected)
        stats = put_alerts(client, "alerts", [item], sleep=lambda _s: None, now=lambda: fixed_now)
        stub.assert_no_pending_responses()
    assert (stats.written, stats.retries) == (1, 1)

    with Stubber(client) as stub:
        stub.add_client_error("put_item", "AccessDeniedException", "not allowed", expected_params=expected)
        with pytest.raises(AlertWriteError, match="AccessDeniedException"):
            put_alerts(client, "alerts", [item], sleep=lambda _s: None, now=lambda: fixed_now)

    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_client_error("put_item", "ThrottlingException", expected_params=expected)
        with pytest.raises(AlertWriteError, match="ThrottlingException"):
            put_alerts(client, "alerts", [item], max_attempts=3, sleep=lambda _s: None, now=lambda: fixed_now)


def test_iceberg_merge_writes_each_row_once_even_for_a_larger_replay(spark: SparkSession) -> None:
    namespace = f"coattail.test_{uuid.uuid4().hex[:8]}"
    spec = TABLES_BY_NAME["whale_trades"]
    ensure_tables(spark, [spec], lambda name: f"{namespace}.{name}")
    table = f"{namespace}.whale_trades"

    def whales(ids: list[int]) -> Any:
        rows = []
        for i in ids:
            trade = (
                f"binance:BTC-USDT:{i}",
                "binance",
                "BTC-USDT",
                "BTC",
                "USDT",
                str(i),
                60000.0,
                2.0,
                120000.0,
                "buy",
            )
            when = (datetime(2024, 5, 1, 12, 0, i, 123456), 100000.0, 1.2, datetime(2024, 5, 1, 12, 1))
            rows.append((f"whale:binance:BTC-USDT:{i}", *trade, *when))
        return spark.createDataFrame(rows, WHALE_ALERT)

    merge_into_iceberg(whales([1, 2]), spec, table)
    merge_into_iceberg(whales([1, 2]), spec, table)  # the same batch again
    merge_into_iceberg(whales([1, 2, 3]), spec, table)  # a replay that now holds one more
    got = (
        spark.table(table)
        .orderBy("trade_id")
        .select("alert_id", F.date_format("trade_time", "HH:mm:ss.SSSSSS").alias("t"))
        .collect()
    )
    assert [(r.alert_id, r.t) for r in got] == [
        ("whale:binance:BTC-USDT:1", "12:00:01.123456"),
        ("whale:binance:BTC-USDT:2", "12:00:02.123456"),
        ("whale:binance:BTC-USDT:3", "12:00:03.123456"),
    ]
    snapshots = spark.sql(f"SELECT count(*) AS n FROM {table}.snapshots").collect()[0].n
    assert snapshots >= 2


def test_iceberg_merge_reads_only_the_batch_time_range_and_commits_appends(spark: SparkSession) -> None:
    namespace = f"coattail.test_{uuid.uuid4().hex[:8]}"
    spec = TABLES_BY_NAME["raw_trades"]
    ensure_tables(spark, [spec], lambda name: f"{namespace}.{name}")
    table = f"{namespace}.raw_trades"

    def trades(rows: list[tuple[str, datetime]]) -> Any:
        return spark.createDataFrame(
            [(eid, "binance", "BTC-USDT", eid, 60000.0, 0.5, 30000.0, "buy", at, at, 1, None, at) for eid, at in rows],
            "event_id string, exchange string, symbol string, trade_id string, price double, quantity double, "
            "quote_volume double, side string, trade_time timestamp, ingested_at timestamp, schema_version int, "
            "kinesis_sequence_number string, archived_at timestamp",
        )

    may1, may2, may3 = (datetime(2024, 5, d, 12, 0, tzinfo=UTC) for d in (1, 2, 3))
    merge_into_iceberg(trades([("a", may1), ("b", may2)]), spec, table)
    merge_into_iceberg(trades([("b", may2), ("c", may2.replace(minute=30))]), spec, table)  # b replayed
    # A row the invariant forbids (one key, two times) shows what the MERGE looks at: the batch spans only
    # 3 May, so the 1 May row "a" is outside the range it reads, and the 3 May "a" is inserted beside it.
    merge_into_iceberg(trades([("a", may3)]), spec, table)
    got = spark.table(table).select("event_id", F.date_format("trade_time", "MM-dd HH:mm").alias("t")).collect()
    assert sorted((r.event_id, r.t) for r in got) == [
        ("a", "05-01 12:00"),
        ("a", "05-03 12:00"),
        ("b", "05-02 12:00"),
        ("c", "05-02 12:30"),
    ]
    # Insert-only MERGEs commit as appends: what an Iceberg streaming read of the table (volume-anomaly) follows.
    operations = [r.operation for r in spark.sql(f"SELECT operation FROM {table}.snapshots").collect()]
    assert operations == ["append", "append", "append"]
