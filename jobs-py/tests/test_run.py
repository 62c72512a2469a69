"""The thin runs, end to end over a file stream: Iceberg in a local warehouse, alerts in dynalite.

A query stopped and started again from its checkpoint — with a replayed record among the new ones —
writes no row and no alert twice.
"""

from __future__ import annotations

import json
import time
from typing import Any

from pyspark.sql import SparkSession

from coattail_jobs.config import JobConfig
from coattail_jobs.replay.runner import replay_config
from coattail_jobs.run import JobRunner
from coattail_jobs.sources import kinesis_source

from .conftest import JobEnv


def _trade(i: int, quote_volume: float, price: float = 60000.0, symbol: str = "BTC-USDT") -> str:
    quantity = quote_volume / price
    return json.dumps(
        {
            "schema_version": 1,
            "event_id": f"binance:{symbol}:{i}",
            "exchange": "binance",
            "symbol": symbol,
            "trade_id": str(i),
            "price": price,
            "quantity": quantity,
            "quote_volume": quote_volume,
            "side": "buy",
            "timestamp": f"2024-05-01T12:00:{i:02d}.000000Z",
            "ingested_at": f"2024-05-01T12:00:{i:02d}.100Z",
        }
    )


def _run_once(env: JobEnv, config: JobConfig) -> None:
    for query in env.start(config):
        query.processAllAvailable()
        query.stop()


def test_whale_detector_restarts_from_its_checkpoint_without_duplicates(spark: SparkSession, job_env: JobEnv) -> None:
    config = job_env.config("whale-detector")
    dynamo, table, source = job_env.dynamodb, job_env.alerts_table, job_env.source
    # 150,000 and 100,000.01 are whales; exactly 100,000 is not (strictly greater).
    (source / "1.jsonl").write_text("\n".join([_trade(1, 150_000.0), _trade(2, 100_000.0), _trade(3, 5_000.0)]) + "\n")
    _run_once(job_env, config)
    # Restart: trade 1 arrives again (a replay) with a new whale, 4.
    (source / "2.jsonl").write_text("\n".join([_trade(1, 150_000.0), _trade(4, 100_000.01)]) + "\n")
    _run_once(job_env, config)

    whales = spark.table(config.table("whale_trades")).where("trade_id in ('1', '2', '3', '4')")
    assert sorted(r.alert_id for r in whales.collect()) == ["whale:binance:BTC-USDT:1", "whale:binance:BTC-USDT:4"]
    alerts = spark.table(config.table("alerts")).where(
        "alert_id in ('whale:binance:BTC-USDT:1', 'whale:binance:BTC-USDT:4')"
    )
    assert alerts.count() == 2
    items = dynamo.scan(TableName=table)["Items"]
    assert sorted(i["alert_id"]["S"] for i in items) == ["whale:binance:BTC-USDT:1", "whale:binance:BTC-USDT:4"]
    first = next(i for i in items if i["alert_id"]["S"].endswith(":1"))
    assert first["alert_type"] == {"S": "whale"}
    assert first["alert_time"] == {"S": "2024-05-01T12:00:01.000Z"}
    assert float(first["quote_volume"]["N"]) == 150_000.0


def test_raw_archiver_keeps_valid_trades_and_sends_failures_to_the_dlq(spark: SparkSession, job_env: JobEnv) -> None:
    config = job_env.config("raw-archiver")
    source = job_env.source
    bad_symbol = json.loads(_trade(12, 10.0))
    bad_symbol["symbol"] = "DOGE-USDT"
    bad_symbol["event_id"] = "binance:DOGE-USDT:12"
    lines = [_trade(10, 1_000.0), _trade(11, 2_000.0), "{not json", json.dumps(bad_symbol)]
    (source / "1.jsonl").write_text("\n".join(lines) + "\n")
    _run_once(job_env, config)
    (source / "2.jsonl").write_text(_trade(10, 1_000.0) + "\n")  # replayed
    _run_once(job_env, config)

    rows = spark.table(config.table("raw_trades")).where("trade_id in ('10', '11', '12')").collect()
    assert sorted(r.event_id for r in rows) == ["binance:BTC-USDT:10", "binance:BTC-USDT:11"]
    dlq = job_env.raw_root / "dlq"
    reasons = sorted(p.name for p in dlq.iterdir())
    assert reasons == ["malformed", "validity_symbol_allowed"]
    lines_out = [json.loads(line) for f in (dlq / "malformed").rglob("*.json") for line in f.read_text().splitlines()]
    assert [(r["reason"], r["record"], r["job"]) for r in lines_out] == [("malformed", "{not json", "raw-archiver")]


def test_whale_detector_reads_the_local_kinesis_emulator_end_to_end(
    spark: SparkSession, kinesis: Any, kinesis_endpoint: str, job_env: JobEnv
) -> None:
    stream = f"e2e-{job_env.root.name[-8:].replace('_', '-')}"
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    while kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        time.sleep(0.1)
    records = [_trade(40, 300_000.0), _trade(41, 99.0), _trade(42, 120_000.0, symbol="ETH-USDT", price=3000.0)]
    kinesis.put_records(StreamName=stream, Records=[{"PartitionKey": "k", "Data": r.encode()} for r in records])
    config = job_env.config("whale-detector", stream=stream, kinesis_endpoint=kinesis_endpoint)
    dynamo, table = job_env.dynamodb, job_env.alerts_table
    queries = job_env.runner(config).start(kinesis_source(spark, config))  # the alerts and the history query
    try:
        for query in queries:
            query.processAllAvailable()
    finally:
        for query in queries:
            query.stop()
    items = dynamo.scan(TableName=table)["Items"]
    assert sorted(i["alert_id"]["S"] for i in items) == ["whale:binance:BTC-USDT:40", "whale:binance:ETH-USDT:42"]
    whales = spark.table(config.table("whale_trades")).where("trade_id in ('40', '41', '42')").collect()
    assert sorted((w.symbol, w.threshold_multiple) for w in whales) == [("BTC-USDT", 3.0), ("ETH-USDT", 1.2)]


def test_whale_detector_puts_alerts_and_writes_its_history_in_two_queries(spark: SparkSession, job_env: JobEnv) -> None:
    dynamo, table = job_env.dynamodb, job_env.alerts_table
    config = replay_config(
        "whale-detector",
        ["trigger=1 second", "history_trigger=3 seconds"],
        base=job_env.config("whale-detector", trigger="5 seconds"),
    )
    assert config.history_trigger == "3 seconds"
    (job_env.source / "1.jsonl").write_text(_trade(58, 300_000.0) + "\n")
    queries = job_env.start(config)
    try:
        assert [q.name for q in queries] == ["whale_detector_whales", "whale_detector_history"]
        alerts, history = queries
        # The alerts query puts the whale to DynamoDB; the history query writes both tables.
        alerts.processAllAvailable()
        items = dynamo.scan(TableName=table, ConsistentRead=True)["Items"]
        assert [i["alert_id"]["S"] for i in items] == ["whale:binance:BTC-USDT:58"]
        history.processAllAvailable()
    finally:
        for q in queries:
            q.stop()
    assert spark.table(config.table("whale_trades")).where("trade_id = '58'").count() == 1
    assert spark.table(config.table("alerts")).where("alert_id = 'whale:binance:BTC-USDT:58'").count() == 1
    assert sorted(p.name for p in (job_env.checkpoints / "whale-detector").iterdir()) == ["history", "whales"]


class _NoDynamoDB:
    """Any use fails the test: the warm-up must not reach DynamoDB."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the warm-up used DynamoDB ({name})")


def test_warm_up_runs_the_whale_write_path_in_scratch_tables_and_leaves_nothing(
    spark: SparkSession, job_env: JobEnv
) -> None:
    config = job_env.config("whale-detector")
    runner = JobRunner(spark, config, dynamodb=_NoDynamoDB())
    before = {name: spark.table(config.table(name)).count() for name in ("whale_trades", "alerts")}

    done = runner.warm_up()

    assert done is not None
    # One synthetic whale went through parse, the detector and both MERGEs, into the scratch tables.
    assert done.rows == {"whale_trades": 1, "alerts": 1}
    assert done.seconds > 0
    # The job's own tables did not change, and the scratch namespace is gone.
    assert {name: spark.table(config.table(name)).count() for name in ("whale_trades", "alerts")} == before
    assert spark.table(config.table("whale_trades")).where("trade_id = 'warm-up'").count() == 0
    namespaces = [row[0] for row in spark.sql(f"SHOW NAMESPACES IN {config.table_prefix.split('.')[0]}").collect()]
    assert f"{config.table_prefix.split('.')[1]}_warmup" not in namespaces
    assert config.table_prefix.split(".")[1] in namespaces
    assert not job_env.checkpoints.exists()  # no stream ran


def test_warm_up_is_for_the_whale_detector_only(spark: SparkSession, job_env: JobEnv) -> None:
    for job in ("raw-archiver", "volume-anomaly", "spread-calculator"):
        assert JobRunner(spark, job_env.config(job), dynamodb=_NoDynamoDB()).warm_up() is None
