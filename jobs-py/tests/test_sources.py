"""The local Kinesis source against the real emulator: every record once, KPL aggregates unpacked."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from coattail_jobs.config import JobConfig
from coattail_jobs.sources import file_source, kinesis_source

from .kpl import aggregate


def _trade(i: int, symbol: str = "BTC-USDT") -> bytes:
    return json.dumps({"event_id": f"binance:{symbol}:{i}", "symbol": symbol, "trade_id": str(i)}).encode()


def test_reads_every_record_once_and_unpacks_kpl_aggregates(
    spark: SparkSession, kinesis: Any, kinesis_endpoint: str, tmp_path: Path
) -> None:
    client = kinesis
    stream = f"trades-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=stream, ShardCount=2)
    while client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        time.sleep(0.1)
    plain = [{"PartitionKey": "BTC-USDT", "Data": _trade(i)} for i in range(20)]
    client.put_records(StreamName=stream, Records=plain)
    # One Kinesis record holding three ETH trades, as `coattail ingest --aggregate` writes them.
    packed = aggregate([("ETH-USDT", _trade(100 + i, "ETH-USDT")) for i in range(3)])
    client.put_record(StreamName=stream, PartitionKey="ETH-USDT", Data=packed)

    config = JobConfig(job="test-sources", stream=stream, kinesis_endpoint=kinesis_endpoint)
    query = (
        kinesis_source(spark, config)
        .writeStream.format("memory")
        .queryName("kinesis_" + stream.replace("-", "_"))
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .trigger(once=True)
        .start()
    )
    query.awaitTermination(180)
    assert query.exception() is None
    rows = spark.table("kinesis_" + stream.replace("-", "_")).collect()
    got = sorted((r.partition_key, json.loads(r.data)["trade_id"]) for r in rows)
    expected = sorted([("BTC-USDT", str(i)) for i in range(20)] + [("ETH-USDT", str(100 + i)) for i in range(3)])
    assert got == expected
    assert all(r.sequence_number and r.arrival_time for r in rows)


def test_file_source_reads_ndjson_lines(spark: SparkSession, tmp_path: Path) -> None:
    (tmp_path / "day.jsonl").write_text('{"a":1}\n{"a":2}\n')
    rows = file_source(spark, str(tmp_path), streaming=False).collect()
    assert sorted(r.data for r in rows) == ['{"a":1}', '{"a":2}']
