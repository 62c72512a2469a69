"""Data quality: each check of the spec failing and passing, the metrics of a batch, the dead-letter files."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from coattail_jobs.config import JobConfig
from coattail_jobs.dead_letters import streaming_query_id, write_dlq
from coattail_jobs.metrics import CloudWatchMetrics
from coattail_jobs.parse import parse_trades
from coattail_jobs.quality import DataQualityChecker, default_checker
from coattail_jobs.schemas import DLQ_RECORD

NOW = datetime(2024, 5, 1, 12, 5, tzinfo=UTC)
CONFIG = JobConfig(job="raw-archiver")
NAMESPACE = "CryptoPulse/Quality"
MISSING = object()

GOOD = {
    "schema_version": 1,
    "event_id": "binance:BTC-USDT:1",
    "exchange": "binance",
    "symbol": "BTC-USDT",
    "trade_id": "1",
    "price": 100.0,
    "quantity": 2.0,
    "quote_volume": 200.0,
    "side": "buy",
    "timestamp": "2024-05-01T12:04:30.000Z",
    "ingested_at": "2024-05-01T12:04:30.100Z",
}


def trade(**changes: object) -> str:
    """GOOD with some fields changed (``MISSING`` leaves a field out), as the record's text."""
    fields = {**GOOD, **changes}
    return json.dumps({k: v for k, v in fields.items() if v is not MISSING})


def rows(columns: str, *values: tuple[object, ...]) -> list[Row]:
    """Expected rows, named like the actual ones (assertDataFrameEqual sorts both by their text)."""
    names = columns.split()
    return [Row(**dict(zip(names, v, strict=True))) for v in values]


class RecordingSink:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, float], dict[str, str]]] = []

    def publish(self, namespace: str, metrics: Mapping[str, float], dimensions: Mapping[str, str]) -> None:
        self.calls.append((namespace, dict(metrics), dict(dimensions)))


def checker(spark: SparkSession, sink: RecordingSink | None = None) -> DataQualityChecker:
    return default_checker(spark, CONFIG, metrics_sink=sink or RecordingSink(), clock=lambda: NOW)


def records(spark: SparkSession, cases: list[tuple[str, str]]) -> DataFrame:
    """Parsed records; ``sequence_number`` names each case."""
    return parse_trades(
        spark.createDataFrame([(text, case) for case, text in cases], "data string, sequence_number string")
    )


def metrics_of(**counts: float) -> dict[str, float]:
    """Every metric the default checker publishes: zero unless given."""
    names = [
        "RecordsProcessed", "RecordsPassed", "RecordsFailed", "RecordsLate", "QualityScore", "malformed",
        "completeness_event_id", "completeness_symbol", "completeness_price", "completeness_quantity",
        "completeness_timestamp", "validity_price_positive", "validity_quantity_positive",
        "validity_symbol_allowed", "validity_exchange_allowed", "timeliness_recent", "consistency_quote_volume",
    ]  # fmt: skip
    return {name: float(counts.get(name, 0.0)) for name in names}


def test_each_check_fails_on_its_own_fault_and_nulls_fail(spark: SparkSession) -> None:
    # NOW is 12:05:00, so a trade is late before 12:00:00.000000.
    cases = [
        ("good", trade()),
        ("event_id_null", trade(event_id=None)),
        ("symbol_missing", trade(symbol=MISSING)),
        ("price_null", trade(price=None)),
        ("quantity_missing", trade(quantity=MISSING)),
        ("timestamp_null", trade(timestamp=None)),
        ("price_zero", trade(price=0.0, quote_volume=0.0)),
        ("price_negative", trade(price=-100.0, quote_volume=-200.0)),  # -100 x 2 = -200: consistent
        ("quantity_zero", trade(quantity=0.0, quote_volume=0.0)),
        ("quantity_negative", trade(quantity=-2.0, quote_volume=-200.0)),
        ("symbol_not_configured", trade(symbol="DOGE-USDT")),
        ("symbol_lower_case", trade(symbol="btc-usdt")),
        ("exchange_unknown", trade(exchange="kraken")),
        ("exchange_null", trade(exchange=None)),
        ("malformed", '{"price": 100.0, '),
        ("late_by_a_microsecond", trade(timestamp="2024-05-01T11:59:59.999999Z")),
        ("exactly_five_minutes_old", trade(timestamp="2024-05-01T12:00:00.000000Z")),
        ("ahead_of_the_clock", trade(timestamp="2024-05-01T12:05:01.000Z")),
        ("quote_volume_off", trade(quote_volume=200.3)),  # 0.3 / 200.3 = 0.0014978 >= 0.001
        ("quote_volume_close", trade(quote_volume=200.1)),  # 0.1 / 200.1 = 0.0004998 < 0.001
        ("quote_volume_null", trade(quote_volume=None)),
        ("quote_volume_negative", trade(quote_volume=-200.0)),  # |-200 - 200| / 200 = 2
    ]
    sink = RecordingSink()

    valid, invalid, metrics = checker(spark, sink).validate(records(spark, cases))

    # A NULL fails every check that reads it; the reason is the first failed ERROR check, in the spec's order.
    assertDataFrameEqual(
        invalid.select("sequence_number", "checks_failed", "reason"),
        rows(
            "sequence_number checks_failed reason",
            ("event_id_null", ["completeness_event_id"], "completeness_event_id"),
            ("symbol_missing", ["completeness_symbol", "validity_symbol_allowed"], "completeness_symbol"),
            ("price_null", ["completeness_price", "validity_price_positive", "consistency_quote_volume"],
             "completeness_price"),
            ("quantity_missing", ["completeness_quantity", "validity_quantity_positive", "consistency_quote_volume"],
             "completeness_quantity"),
            ("timestamp_null", ["completeness_timestamp", "timeliness_recent"], "completeness_timestamp"),
            # quote_volume 0: the ratio divides by zero, NULL, a failure
            ("price_zero", ["validity_price_positive", "consistency_quote_volume"], "validity_price_positive"),
            ("price_negative", ["validity_price_positive"], "validity_price_positive"),
            ("quantity_zero", ["validity_quantity_positive", "consistency_quote_volume"], "validity_quantity_positive"),
            ("quantity_negative", ["validity_quantity_positive"], "validity_quantity_positive"),
            ("symbol_not_configured", ["validity_symbol_allowed"], "validity_symbol_allowed"),
            ("symbol_lower_case", ["validity_symbol_allowed"], "validity_symbol_allowed"),
            ("exchange_unknown", ["validity_exchange_allowed"], "validity_exchange_allowed"),
            ("exchange_null", ["validity_exchange_allowed"], "validity_exchange_allowed"),
            ("malformed", ["malformed"], "malformed"),
        ),
    )  # fmt: skip
    # WARN failures (late, quote volume off, NULL or negative) pass.
    assertDataFrameEqual(
        valid.select("sequence_number"),
        rows(
            "sequence_number",
            ("good",), ("late_by_a_microsecond",), ("exactly_five_minutes_old",), ("ahead_of_the_clock",),
            ("quote_volume_off",), ("quote_volume_close",), ("quote_volume_null",), ("quote_volume_negative",),
        ),
    )  # fmt: skip
    # The WARN failures are counted: timeliness in timestamp_null and late_by_a_microsecond; consistency in
    # price_null, quantity_missing, price_zero, quantity_zero, quote_volume_off, _null and _negative.
    # 22 records, 14 to the dead-letter queue, 8 pass: 8 / 22 = 36.36...%.
    expected = metrics_of(
        RecordsProcessed=22, RecordsPassed=8, RecordsFailed=14, RecordsLate=2, QualityScore=800 / 22, malformed=1,
        completeness_event_id=1, completeness_symbol=1, completeness_price=1, completeness_quantity=1,
        completeness_timestamp=1, validity_price_positive=3, validity_quantity_positive=3,
        validity_symbol_allowed=3, validity_exchange_allowed=2, timeliness_recent=2, consistency_quote_volume=7,
    )  # fmt: skip
    assert metrics == expected
    assert sink.calls == [(NAMESPACE, expected, {"Job": "raw-archiver"})]


MIXED = [
    ("good_btc", trade()),
    ("good_eth", trade(event_id="coinbase:ETH-USDT:9", exchange="coinbase", symbol="ETH-USDT", trade_id="9",
                       price=3000.0, quantity=0.5, quote_volume=1500.0)),
    ("good_sol", trade(event_id="binance:SOL-USDT:4", symbol="SOL-USDT", trade_id="4",
                       price=150.0, quantity=4.0, quote_volume=600.0)),
    ("late", trade(timestamp="2024-05-01T11:58:00.000Z")),
    ("inconsistent", trade(quote_volume=201.0)),  # 1 / 201 = 0.004975
    ("late_and_inconsistent", trade(timestamp="2024-05-01T11:58:00.000Z", quote_volume=201.0)),
    ("negative_price", trade(price=-100.0, quote_volume=-200.0)),
    ("malformed", "oops"),
]  # fmt: skip


def test_a_mixed_batch_passes_warnings_and_publishes_exact_metrics(spark: SparkSession) -> None:
    sink = RecordingSink()

    valid, invalid, metrics = checker(spark, sink).validate(records(spark, MIXED))

    assertDataFrameEqual(
        valid.select("sequence_number"),
        rows(
            "sequence_number",
            ("good_btc",),
            ("good_eth",),
            ("good_sol",),
            ("late",),
            ("inconsistent",),
            ("late_and_inconsistent",),
        ),
    )
    assertDataFrameEqual(
        invalid.select("record", "checks_failed", "reason"),
        rows(
            "record checks_failed reason",
            (MIXED[6][1], ["validity_price_positive"], "validity_price_positive"),
            ("oops", ["malformed"], "malformed"),
        ),
    )
    # 8 processed; 2 to the dead-letter queue (negative_price, malformed); 6 pass: 6 / 8 = 75%.
    # late and late_and_inconsistent are late; inconsistent and late_and_inconsistent are inconsistent.
    expected = metrics_of(
        RecordsProcessed=8, RecordsPassed=6, RecordsFailed=2, RecordsLate=2, QualityScore=75.0, malformed=1,
        validity_price_positive=1, timeliness_recent=2, consistency_quote_volume=2,
    )  # fmt: skip
    assert metrics == expected
    assert sink.calls == [(NAMESPACE, expected, {"Job": "raw-archiver"})]


QUERY_ID = "5b1c3d1e-0f7a-4f43-9d0e-2a1b4c6d8e9f"


def test_an_empty_batch_scores_100_and_writes_no_dead_letters(spark: SparkSession, tmp_path: Path) -> None:
    sink = RecordingSink()

    _, invalid, metrics = checker(spark, sink).validate(records(spark, []))

    assert metrics == metrics_of(QualityScore=100.0)
    assert write_dlq(invalid, str(tmp_path), "raw-archiver", 1, NOW, query_id=QUERY_ID) == []
    assert list(tmp_path.iterdir()) == []


def test_dead_letters_are_filed_by_arrival_day_and_a_replay_after_midnight_replaces_them(
    spark: SparkSession, tmp_path: Path
) -> None:
    # Kinesis received the malformed record at 23:59:59.9 UTC on May 1 and the bad price at 00:00:00.1 on
    # May 2; the two records of the batch go to two days' folders. "oops" has no trade time to fall back on.
    arrived = {
        "malformed": datetime(2024, 5, 1, 23, 59, 59, 900000, tzinfo=UTC),
        "negative_price": NOW + timedelta(hours=12),
    }
    raw = spark.createDataFrame(
        [(text, case, arrived.get(case)) for case, text in MIXED],
        "data string, sequence_number string, arrival_time timestamp",
    )
    chk = checker(spark)
    _, invalid, _ = chk.validate(parse_trades(raw))
    root = str(tmp_path)
    # 01:00:00.25 at UTC+2 is 23:00:00.25 UTC on May 1; the replay's clock is past midnight, on May 2.
    failed_at = datetime(2024, 5, 2, 1, 0, 0, 250000, tzinfo=timezone(timedelta(hours=2)))
    replayed_at = datetime(2024, 5, 2, 0, 30, tzinfo=UTC)

    written = write_dlq(invalid, root, "raw-archiver", 7, failed_at, query_id=QUERY_ID)
    again = write_dlq(invalid, root, "raw-archiver", 7, replayed_at, query_id=QUERY_ID)  # the micro-batch replayed
    chk.release()

    batch = f"job=raw-archiver/query_id={QUERY_ID}/batch_id=7"
    malformed_dir = tmp_path / "dlq/malformed/dt=2024-05-01" / batch
    price_dir = tmp_path / "dlq/validity_price_positive/dt=2024-05-02" / batch
    assert written == again == [str(malformed_dir), str(price_dir)]
    data_files = sorted(str(p.relative_to(tmp_path).parent) for p in tmp_path.glob("dlq/**/part-*.json"))
    assert data_files == [str(malformed_dir.relative_to(tmp_path)), str(price_dir.relative_to(tmp_path))]

    def lines(folder: Path) -> list[dict[str, object]]:
        return [json.loads(line) for f in folder.glob("part-*.json") for line in f.read_text().splitlines()]

    common = {"job": "raw-archiver", "query_id": QUERY_ID, "batch_id": 7, "failed_at": "2024-05-02T00:30:00.000000Z"}
    assert lines(malformed_dir) == [{"reason": "malformed", "checks_failed": ["malformed"], "record": "oops", **common}]
    assert lines(price_dir) == [
        {
            "reason": "validity_price_positive",
            "checks_failed": ["validity_price_positive"],
            "record": MIXED[6][1],
            **common,
        }
    ]
    assert list(lines(malformed_dir)[0]) == DLQ_RECORD.fieldNames()  # every field, in the schema's order


def test_without_an_arrival_time_dead_letters_are_filed_by_trade_day(spark: SparkSession, tmp_path: Path) -> None:
    chk = checker(spark)
    _, invalid, _ = chk.validate(records(spark, MIXED))  # no arrival_time column

    written = write_dlq(invalid, str(tmp_path), "raw-archiver", 3, NOW, query_id=QUERY_ID)
    chk.release()

    # The bad price traded on 2024-05-01; "oops" has no time at all: Hive's folder for a NULL partition.
    batch = f"job=raw-archiver/query_id={QUERY_ID}/batch_id=3"
    assert written == [
        f"{tmp_path}/dlq/malformed/dt=__HIVE_DEFAULT_PARTITION__/{batch}",
        f"{tmp_path}/dlq/validity_price_positive/dt=2024-05-01/{batch}",
    ]


def test_any_checks_over_any_frame_warn_rows_pass_and_the_row_is_the_record(
    spark: SparkSession, caplog: pytest.LogCaptureFixture
) -> None:
    data = [(1, 5, "a"), (2, -1, "a"), (3, None, "b"), (4, 5, None), (5, 12, "b")]
    df = spark.createDataFrame(data, "id int, x int, y string")
    sink = RecordingSink()
    chk = DataQualityChecker(spark, "Test/Quality", sink, dimensions={"Job": "test"})
    chk.add_check("x_positive", F.col("x") > 0).add_check("y_is_a", F.col("y") == "a", "WARN")
    chk.add_check("x_below_10", F.col("x") < 10, severity="ERROR")

    with caplog.at_level(logging.INFO, logger="coattail_jobs.quality"), chk.validated(df) as (valid, invalid, metrics):
        assertDataFrameEqual(valid, rows("id x y", (1, 5, "a"), (4, 5, None)))
        # No `record` column: the row as JSON stands for it (to_json leaves NULL fields out).
        assertDataFrameEqual(
            invalid,
            rows(
                "id x y record checks_failed reason",
                (2, -1, "a", '{"id":2,"x":-1,"y":"a"}', ["x_positive"], "x_positive"),
                (3, None, "b", '{"id":3,"y":"b"}', ["x_positive", "y_is_a", "x_below_10"], "x_positive"),
                (5, 12, "b", '{"id":5,"x":12,"y":"b"}', ["y_is_a", "x_below_10"], "x_below_10"),
            ),
        )

    # 5 rows, 3 failed an ERROR check, 2 pass: 40%. y_is_a fails in rows 3, 4 and 5.
    expected = {
        "RecordsProcessed": 5.0, "RecordsPassed": 2.0, "RecordsFailed": 3.0, "RecordsLate": 0.0,
        "QualityScore": 40.0, "malformed": 0.0, "x_positive": 2.0, "y_is_a": 3.0, "x_below_10": 2.0,
    }  # fmt: skip
    assert metrics == expected
    assert sink.calls == [("Test/Quality", expected, {"Job": "test"})]
    assert "quality: 3 records failed the WARN check y_is_a" in caplog.messages


class FailingSink:
    def publish(self, namespace: str, metrics: Mapping[str, float], dimensions: Mapping[str, str]) -> None:
        raise ConnectionError("metrics endpoint unreachable")


def test_an_unexpected_publish_failure_fails_the_batch(spark: SparkSession) -> None:
    chk = DataQualityChecker(spark, metrics_sink=FailingSink()).add_check("x_positive", F.col("x") > 0)

    with pytest.raises(ConnectionError, match="unreachable"):
        chk.validate(spark.createDataFrame([(1,)], "x int"))


def test_cloudwatch_refusing_the_metrics_is_logged_and_the_batch_goes_on(
    spark: SparkSession, caplog: pytest.LogCaptureFixture
) -> None:
    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    chk = DataQualityChecker(spark, metrics_sink=CloudWatchMetrics(client)).add_check("x_positive", F.col("x") > 0)
    df = spark.createDataFrame([(1,), (-1,)], "x int")
    with Stubber(client) as stub, caplog.at_level(logging.ERROR, logger="coattail_jobs.quality"):
        stub.add_client_error("put_metric_data", "AccessDenied", "not authorized to perform cloudwatch:PutMetricData")
        valid, invalid, metrics = chk.validate(df)
        stub.assert_no_pending_responses()
    assert (valid.count(), invalid.count(), metrics["RecordsFailed"]) == (1, 1, 1.0)
    assert any("AccessDenied" in m and "not published" in m for m in caplog.messages)


def test_validated_can_leave_publishing_until_the_batch_is_written(spark: SparkSession) -> None:
    sink = RecordingSink()
    chk = DataQualityChecker(spark, "Test/Quality", sink).add_check("x_positive", F.col("x") > 0)
    with chk.validated(spark.createDataFrame([(1,), (-1,), (2,)], "x int"), publish=False) as (_, _, metrics):
        assert sink.calls == []
        assert chk.publish_metrics(metrics) is True
    assert [(ns, m["RecordsProcessed"], m["RecordsFailed"]) for ns, m, _ in sink.calls] == [("Test/Quality", 3.0, 1.0)]


def test_misuse_is_refused(spark: SparkSession) -> None:
    chk = DataQualityChecker(spark, metrics_sink=RecordingSink())
    chk.add_check("a", F.col("x") > 0)
    with pytest.raises(ValueError, match="already taken"):
        chk.add_check("a", F.col("x") > 1)
    with pytest.raises(ValueError, match="already taken"):
        chk.add_check("malformed", F.col("x") > 1)
    with pytest.raises(ValueError, match="letters, digits and underscores"):
        chk.add_check("no/slashes", F.col("x") > 1)
    with pytest.raises(ValueError, match="ERROR or WARN"):
        chk.add_check("b", F.col("x") > 1, "INFO")  # type: ignore[arg-type]

    naive = DataQualityChecker(spark, metrics_sink=RecordingSink(), clock=lambda: datetime(2024, 5, 1))
    with pytest.raises(ValueError, match="aware datetime"):
        naive.validate(spark.createDataFrame([(1,)], "x int"))
    with pytest.raises(ValueError, match="foreachBatch"):
        chk.validate(spark.readStream.format("rate").load())
    with pytest.raises(ValueError, match="aware datetime"):
        write_dlq(spark.createDataFrame([], "x int"), "/tmp", "raw-archiver", 1, datetime(2024, 5, 1), query_id="q")
    with pytest.raises(ValueError, match="cannot name a folder"):
        write_dlq(spark.createDataFrame([], "x int"), "/tmp", "raw-archiver", 1, NOW, query_id="../q")
    with pytest.raises(RuntimeError, match="foreachBatch"):
        streaming_query_id(spark.createDataFrame([], "x int"))
