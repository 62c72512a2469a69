"""Data quality: named checks over parsed trades, a dead-letter queue for what fails, metrics for all of it.

A check is a Column that is true when a record passes; NULL counts as a failure. ERROR failures send the
record to the dead-letter queue (``dead_letters.write_dlq``); WARN failures are logged and counted, and the record
passes. A record that ``parse.parse_trades`` flagged as malformed fails as ``malformed`` alone: no other
check is evaluated for it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from botocore.exceptions import BotoCoreError, ClientError
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from coattail_jobs.config import EXCHANGES, JobConfig
from coattail_jobs.metrics import LoggingMetrics, MetricsSink, metrics_sink_for
from coattail_jobs.parse import MALFORMED_COL, RECORD_COL, literal_col

Severity = Literal["ERROR", "WARN"]

MALFORMED = "malformed"
"""The check (and dead-letter reason) of a record whose text is not a unified trade."""
LATE_CHECK = "timeliness_recent"
"""The check whose failures are ``RecordsLate``."""
MAX_LATENESS = timedelta(minutes=5)

CHECKS_FAILED_COL = "checks_failed"
REASON_COL = "reason"
PROCESSING_TIME_COL = "_quality_processing_time"

SUMMARY_METRICS = ("RecordsProcessed", "RecordsPassed", "RecordsFailed", "RecordsLate", "QualityScore")

CHECK_NAME = re.compile(r"^[A-Za-z0-9_]+$")
"""What a check may be named: check names become metric names and dead-letter folder names."""
_INVALID = "_qc_invalid"
_MALFORMED_FLAG = "_qc_malformed"

logger = logging.getLogger(__name__)


def processing_time() -> Column:
    """The batch's processing time, fixed once per ``validate`` call (the checker's clock), for checks."""
    return F.col(PROCESSING_TIME_COL)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class QualityCheck:
    name: str
    condition: Column
    severity: Severity


class DataQualityChecker:
    """Named checks; ``validate`` splits a batch into passing and dead-letter rows and publishes metrics.

    ``dimensions`` go with every published metric (the default checker adds ``Job``). ``clock`` gives the
    processing time that ``processing_time()`` stands for; it must return an aware datetime.
    """

    def __init__(
        self,
        spark: SparkSession,
        cloudwatch_namespace: str = "CryptoPulse/Quality",
        metrics_sink: MetricsSink | None = None,
        *,
        dimensions: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.spark = spark
        self.namespace = cloudwatch_namespace
        self._sink: MetricsSink = (
            metrics_sink if metrics_sink is not None else LoggingMetrics(logging.getLogger("coattail_jobs.metrics"))
        )
        self._dimensions = dict(dimensions or {})
        self._clock = clock
        self._checks: list[QualityCheck] = []
        self._cached: list[DataFrame] = []

    @property
    def checks(self) -> tuple[QualityCheck, ...]:
        return tuple(self._checks)

    def add_check(self, name: str, condition: Column, severity: Severity = "ERROR") -> DataQualityChecker:
        """Add a check, evaluated in the order added: the first failed ERROR check is a record's reason."""
        if severity not in get_args(Severity):
            raise ValueError(f"check {name}: severity must be ERROR or WARN, not {severity!r}")
        if not CHECK_NAME.match(name):
            raise ValueError(f"check name {name!r}: use letters, digits and underscores only")
        if name == MALFORMED or name in SUMMARY_METRICS or any(c.name == name for c in self._checks):
            raise ValueError(f"check name {name!r} is already taken")
        self._checks.append(QualityCheck(name, condition, severity))
        return self

    def passes(self) -> Column:
        """True for a well-formed record with no ERROR failure: the filter streaming jobs apply before their
        event-time logic (counting, metrics and the dead-letter queue happen in ``validate``)."""
        condition = ~F.coalesce(literal_col(MALFORMED_COL), F.lit(False))
        for check in self._checks:
            if check.severity == "ERROR":
                condition = condition & F.coalesce(check.condition, F.lit(False))
        return condition

    def validate(self, df: DataFrame) -> tuple[DataFrame, DataFrame, dict[str, float]]:
        """Split ``df`` into (valid_df, invalid_df, metrics) and publish the metrics.

        valid_df has ``df``'s columns: the rows with no ERROR failure (WARN failures included).
        invalid_df has ``df``'s columns (plus ``record``, the row as JSON, when ``df`` has none),
        ``checks_failed`` (every failed check, ERROR and WARN, in the order added) and ``reason`` (the
        first failed ERROR check, or ``malformed``).

        Metrics: RecordsProcessed, RecordsPassed, RecordsFailed (to the dead-letter queue), RecordsLate
        (``timeliness_recent`` failures), QualityScore (percent passed; 100 for an empty batch), then
        failures per check: ``malformed`` and each check's name. The flagged batch is persisted, so the
        counts, valid_df and invalid_df do not recompute the input; ``release()`` frees it.
        """
        valid_df, invalid_df, metrics, cached = self._validate(df)
        self._cached.append(cached)
        return valid_df, invalid_df, metrics

    def release(self) -> None:
        """Unpersist every batch ``validate`` cached; call once its valid and invalid rows are written."""
        while self._cached:
            self._cached.pop().unpersist()

    @contextmanager
    def validated(
        self, df: DataFrame, *, publish: bool = True
    ) -> Iterator[tuple[DataFrame, DataFrame, dict[str, float]]]:
        """``validate`` for a ``with`` block: the batch it cached is released at the block's end.

        ``publish=False`` leaves publishing to the caller (``publish_metrics``), so a job can publish only
        once the batch is written: a batch that fails and is replayed then counts once, not twice.
        """
        valid_df, invalid_df, metrics, cached = self._validate(df, publish=publish)
        try:
            yield valid_df, invalid_df, metrics
        finally:
            cached.unpersist()

    def publish_metrics(self, metrics: Mapping[str, float]) -> bool:
        """Send one batch's metrics; False when the metrics service refused them.

        A refusal (a missing ``cloudwatch:PutMetricData`` permission, throttling past the retries, the service
        down) is logged as an ERROR with the service's reason and does not fail the batch: the trades are
        written already, and stopping the stream over its dashboard would lose more than it saves.
        """
        try:
            self._sink.publish(self.namespace, metrics, self._dimensions)
        except (ClientError, BotoCoreError) as err:
            logger.error("quality metrics not published to %s (the batch's data is written): %s", self.namespace, err)
            return False
        return True

    def _validate(
        self, df: DataFrame, *, publish: bool = True
    ) -> tuple[DataFrame, DataFrame, dict[str, float], DataFrame]:
        if df.isStreaming:
            raise ValueError("validate works on a batch DataFrame: call it from foreachBatch")
        for reserved in (PROCESSING_TIME_COL, CHECKS_FAILED_COL, REASON_COL, _INVALID, _MALFORMED_FLAG):
            if reserved in df.columns:
                raise ValueError(f"validate: the input already has a column {reserved!r}")
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the checker's clock must return an aware datetime")

        originals = df.columns
        fail_cols = self._fail_cols()
        is_malformed = (
            F.coalesce(literal_col(MALFORMED_COL), F.lit(False)) if MALFORMED_COL in originals else F.lit(False)
        )
        flagged = df.withColumn(PROCESSING_TIME_COL, F.lit(now)).select(
            *[literal_col(c) for c in originals],
            is_malformed.alias(_MALFORMED_FLAG),
            *[
                F.when(is_malformed, F.lit(False)).otherwise(~F.coalesce(check.condition, F.lit(False))).alias(fail)
                for check, fail in zip(self._checks, fail_cols, strict=True)
            ],
        )

        malformed = F.col(_MALFORMED_FLAG)
        error_fails = [F.col(f) for c, f in zip(self._checks, fail_cols, strict=True) if c.severity == "ERROR"]
        invalid = malformed
        for fail in error_fails:
            invalid = invalid | fail
        names = [F.when(F.col(f), F.lit(c.name)) for c, f in zip(self._checks, fail_cols, strict=True)]
        failed_names = F.array_compact(F.array(*names)) if names else F.array().cast("array<string>")
        first_error = [
            F.when(F.col(f), F.lit(c.name))
            for c, f in zip(self._checks, fail_cols, strict=True)
            if c.severity == "ERROR"
        ]
        reason = F.when(malformed, F.lit(MALFORMED)).otherwise(
            F.coalesce(*first_error) if first_error else F.lit(None).cast("string")
        )
        annotated = flagged.select(
            "*",
            invalid.alias(_INVALID),
            F.when(malformed, F.array(F.lit(MALFORMED))).otherwise(failed_names).alias(CHECKS_FAILED_COL),
            reason.alias(REASON_COL),
        ).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            metrics = self._count(annotated)
            self._log(metrics)
            if publish:
                self.publish_metrics(metrics)
        except BaseException:
            annotated.unpersist()  # nobody else holds it: free it, then let the error through
            raise

        valid_df = annotated.filter(~F.col(_INVALID)).select(*[literal_col(c) for c in originals])
        record = (
            []
            if RECORD_COL in originals
            else [F.to_json(F.struct(*[literal_col(c) for c in originals])).alias(RECORD_COL)]
        )
        invalid_df = annotated.filter(F.col(_INVALID)).select(
            *[literal_col(c) for c in originals], *record, CHECKS_FAILED_COL, REASON_COL
        )
        return valid_df, invalid_df, metrics, annotated

    def _fail_cols(self) -> list[str]:
        """The per-row flag of each check: true when the record failed it."""
        return [f"_qc_fail_{i}" for i in range(len(self._checks))]

    def _count(self, annotated: DataFrame) -> dict[str, float]:
        """Every count in one aggregation over the persisted rows."""
        fail_cols = self._fail_cols()
        counts = annotated.agg(
            F.count(F.lit(1)).alias("processed"),
            F.count(F.when(F.col(_INVALID), 1)).alias("failed"),
            F.count(F.when(F.col(_MALFORMED_FLAG), 1)).alias(MALFORMED),
            *[F.count(F.when(F.col(f), 1)).alias(f) for f in fail_cols],
        ).first()
        if counts is None:  # an aggregation without grouping always yields one row
            raise RuntimeError("validate: the count aggregation returned no row")
        per_check = {c.name: int(counts[f]) for c, f in zip(self._checks, fail_cols, strict=True)}
        return self._metrics(int(counts["processed"]), int(counts["failed"]), int(counts[MALFORMED]), per_check)

    def _metrics(self, processed: int, failed: int, malformed: int, per_check: Mapping[str, int]) -> dict[str, float]:
        passed = processed - failed
        return {
            "RecordsProcessed": float(processed),
            "RecordsPassed": float(passed),
            "RecordsFailed": float(failed),
            "RecordsLate": float(per_check.get(LATE_CHECK, 0)),
            "QualityScore": 100.0 * passed / processed if processed else 100.0,
            MALFORMED: float(malformed),
            **{name: float(n) for name, n in per_check.items()},
        }

    def _log(self, metrics: Mapping[str, float]) -> None:
        logger.info(
            "quality: %d processed, %d passed, %d to the dead-letter queue (%d malformed)",
            metrics["RecordsProcessed"],
            metrics["RecordsPassed"],
            metrics["RecordsFailed"],
            metrics[MALFORMED],
        )
        for check in self._checks:
            if check.severity == "WARN" and metrics[check.name]:
                logger.warning("quality: %d records failed the WARN check %s", metrics[check.name], check.name)


def default_checker(
    spark: SparkSession,
    config: JobConfig,
    *,
    metrics_sink: MetricsSink | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> DataQualityChecker:
    """The checks of the spec, over ``parse.parse_trades`` columns, metrics dimensioned by ``Job``."""
    price, quantity, quote_volume, trade_time = (
        F.col("price"),
        F.col("quantity"),
        F.col("quote_volume"),
        F.col("trade_time"),
    )
    checker = DataQualityChecker(
        spark,
        config.cloudwatch_namespace,
        metrics_sink if metrics_sink is not None else metrics_sink_for(config),
        dimensions={"Job": config.job},
        clock=clock,
    )
    for field in ("event_id", "symbol", "price", "quantity"):
        checker.add_check(f"completeness_{field}", F.col(field).isNotNull())
    checker.add_check("completeness_timestamp", trade_time.isNotNull())
    checker.add_check("validity_price_positive", price > 0)
    checker.add_check("validity_quantity_positive", quantity > 0)
    checker.add_check("validity_symbol_allowed", F.col("symbol").isin(list(config.symbols)))
    checker.add_check("validity_exchange_allowed", F.col("exchange").isin(list(EXCHANGES)))
    max_lateness_us = MAX_LATENESS // timedelta(microseconds=1)
    # Only old trades fail: a trade stamped slightly ahead of this clock is skew, not lateness.
    checker.add_check(
        LATE_CHECK, F.unix_micros(trade_time) >= F.unix_micros(processing_time()) - max_lateness_us, "WARN"
    )
    # |quote_volume| as the divisor: the same as the spec's ratio for a positive quote_volume, and a
    # negative one fails instead of passing with a negative ratio. try_divide: 0 gives NULL, a failure.
    relative_error = F.try_divide(F.abs(quote_volume - price * quantity), F.abs(quote_volume))
    checker.add_check("consistency_quote_volume", relative_error < 0.001, "WARN")
    return checker
