"""The catalogue of jobs: every job of the package, once, with what the entry point, the live runner and replay
need to know about it.

A streaming job is its settings (``--set``) and its queries, in the order they start. Each query reads the
raw Kinesis records, the parsed and checked trades, or a table an earlier query of the job writes; builds
its rows with the job's pure transform; and hands each micro-batch to the sinks it names: the Iceberg
table of its rows, the alerts (DynamoDB, Iceberg ``alerts``). ``run.JobRunner`` starts them as they are
described here, ``replay`` runs the same transforms over a recording, and ``python -m coattail_jobs`` adds
one command per job. A batch job is its own module's command (``add_parser``, ``run_from_args``).

``python -m coattail_jobs catalog --json`` prints the catalogue for the TypeScript side, which keeps it as
``src/spark/jobs-catalog.json`` (``make catalog``; a test fails when the two differ).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from pyspark.sql import DataFrame

from ..alerts import anomaly_alerts_to_alerts, spread_alerts_to_alerts, whale_alerts_to_alerts
from ..batch import historical_loader, reprocess, schema_evolution
from ..config import (
    ANOMALY_MIN_PERIODS,
    ANOMALY_THRESHOLD,
    HISTORY_TRIGGER,
    SPREAD_THRESHOLD,
    SYMBOLS,
    TRIGGER,
    WATERMARK,
    WHALE_THRESHOLD,
    ConfigError,
    JobConfig,
    Setting,
    apply_settings,
    setting_values,
)
from . import raw_archiver, spread_calculator, volume_anomaly, whale_detector

Kind = Literal["streaming", "batch"]
STREAMING: Kind = "streaming"
BATCH: Kind = "batch"

RECORDS = "records"
"""What a query reads: the raw Kinesis records, unparsed. Only the archive does: it checks every record itself,
dead-letters the failures and publishes the quality metrics, once for all the jobs."""
TRADES = "trades"
"""What a query reads: the trades that parsed and passed the ERROR checks (``DataQualityChecker.passes``)."""

Transform = Callable[[DataFrame], DataFrame]
TransformFactory = Callable[[JobConfig, datetime | None], Transform]
"""(config, detected_at) -> the transform; ``detected_at`` fixes the detection time (replay), None: the
micro-batch's processing time."""
AlertConverter = Callable[[DataFrame, datetime | None], DataFrame]
"""(a query's rows, detected_at) -> schemas.ALERT rows (only the rows that raise one)."""


@dataclass(frozen=True)
class Query:
    """One streaming query of a job: its checkpoint folder, what it reads, its rows, and where they go."""

    name: str
    """The checkpoint folder (``<checkpoint root>/<job>/<name>``) and the query's name (``<job>_<name>``)."""
    reads: str
    """``RECORDS``, ``TRADES``, or the table an earlier query of the job writes (read as an Iceberg stream)."""
    rows: str
    """The table whose shape its rows have (schemas.TABLES), and that replay writes as ``<rows>.jsonl``."""
    transform: TransformFactory | None = None
    """None for the archive, which validates the raw records itself (``raw_archiver.archive_batch``)."""
    writes_rows: bool = True
    """The rows are MERGEd into their table (an alerts-only query leaves that to another query)."""
    alerts: AlertConverter | None = None
    put_alerts: bool = False
    """The alerts are put to DynamoDB (conditional on the alert id), before any table is written."""
    keeps_alerts: bool = False
    """The alerts are MERGEd into Iceberg ``alerts``, after the rows' table."""
    rows_are_alerts: bool = False
    """Every row raises an alert: a micro-batch that put none has no rows to write either."""
    trigger: str = "trigger"
    """The JobConfig field of its processing-time trigger (unset: ``trigger``)."""

    def __post_init__(self) -> None:
        if (self.transform is None) != (self.reads == RECORDS):
            raise ValueError(f"query {self.name}: a transform, unless it archives the raw records")
        if self.alerts is None and (self.put_alerts or self.keeps_alerts or not self.writes_rows):
            raise ValueError(f"query {self.name}: without alerts it writes its rows, and only them")
        if self.alerts is not None and self.keeps_alerts != self.writes_rows:
            raise ValueError(f"query {self.name}: it keeps its alerts where it writes its rows (or puts them only)")
        if self.alerts is not None and not (self.put_alerts or self.keeps_alerts):
            raise ValueError(f"query {self.name}: its alerts go somewhere")

    @property
    def reads_kinesis(self) -> bool:
        return self.reads in (RECORDS, TRADES)

    @property
    def tables(self) -> tuple[str, ...]:
        """The Iceberg tables it writes."""
        return (*((self.rows,) if self.writes_rows else ()), *(("alerts",) if self.keeps_alerts else ()))


class Entry(Protocol):
    """A batch job's command: its module adds the subcommand and runs the parsed arguments."""

    def add_parser(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...

    def run_from_args(self, args: argparse.Namespace) -> int: ...


@dataclass(frozen=True)
class Job:
    name: str
    kind: Kind
    summary: str
    tables: tuple[str, ...]
    """The tables it writes, in the database of the jobs' tables."""
    settings: tuple[Setting, ...] = ()
    """What ``--set NAME=VALUE`` takes, defaults from JobConfig."""
    queries: tuple[Query, ...] = ()
    replay: bool = False
    """``python -m coattail_jobs replay`` runs it over a recording."""
    warm_up: bool = False
    """``pipeline --warm-up`` runs its write path once before the stream starts (its alerts wait for no window)."""
    entry: Entry | None = None
    """A batch job's command; the streaming jobs share the entry point's own."""

    def configure(self, assignments: Sequence[str] = (), base: JobConfig | None = None) -> JobConfig:
        """The job's JobConfig (``base``, or the defaults) with ``NAME=VALUE`` settings applied; SettingError."""
        return apply_settings(base or JobConfig(job=self.name), self.settings, assignments)

    def setting_values(self, config: JobConfig) -> dict[str, object]:
        """The job's effective settings, by JobConfig field name."""
        return setting_values(config, self.settings)

    @property
    def watermarked(self) -> bool:
        """Late trades are dropped behind a watermark (raw-archiver keeps them)."""
        return WATERMARK in self.settings

    @property
    def kinesis_queries(self) -> tuple[Query, ...]:
        return tuple(q for q in self.queries if q.reads_kinesis)

    @property
    def alerting_query(self) -> Query | None:
        """The first query that turns its rows into alerts."""
        return next((q for q in self.queries if q.alerts is not None), None)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "summary": self.summary,
            "queries": [q.name for q in self.kinesis_queries],
            "iceberg_queries": {q.name: q.reads for q in self.queries if not q.reads_kinesis},
            "tables": list(self.tables),
            "replay": self.replay,
            "settings": [
                {"key": s.key, "aliases": list(s.aliases), "default": s.default, "help": s.help} for s in self.settings
            ],
        }


def streaming_job(
    name: str,
    summary: str,
    settings: tuple[Setting, ...],
    queries: tuple[Query, ...],
    *,
    replay: bool = True,
    warm_up: bool = False,
) -> Job:
    """A streaming job; the tables it writes are its queries'."""
    tables = tuple(dict.fromkeys(table for query in queries for table in query.tables))
    return Job(name, STREAMING, summary, tables, settings, queries, replay=replay, warm_up=warm_up)


def batch_job(
    entry: Entry, name: str, summary: str, tables: tuple[str, ...], settings: tuple[Setting, ...] = ()
) -> Job:
    return Job(name, BATCH, summary, tables, settings, entry=entry)


# ---------------------------------------------------------------- transforms and alerts, one signature each


def _aggregates(config: JobConfig, _detected_at: datetime | None) -> Transform:
    return volume_anomaly.volume_aggregates(config)  # windows carry no detection time


def _spreads(config: JobConfig, _detected_at: datetime | None) -> Transform:
    return spread_calculator.spread_records(config)  # the alerts carry it (spread_alerts_to_alerts)


def _whale_alerts(whales: DataFrame, _detected_at: datetime | None) -> DataFrame:
    return whale_alerts_to_alerts(whales)  # each whale row carries its detection time


def _anomaly_alerts(anomalies: DataFrame, _detected_at: datetime | None) -> DataFrame:
    return anomaly_alerts_to_alerts(anomalies)  # each anomaly row carries its detection time


# ---------------------------------------------------------------- the jobs

CATALOG: tuple[Job, ...] = (
    streaming_job(
        raw_archiver.JOB,
        "every valid trade into Iceberg raw_trades, late ones too; what fails the checks to the dead-letter queue",
        # No watermark: it archives late trades too. Its trigger only paces the live job (a replay, with no
        # lateness to decide, runs the recording as one micro-batch whatever it says).
        (SYMBOLS, TRIGGER),
        (Query("raw", reads=RECORDS, rows="raw_trades"),),
    ),
    streaming_job(
        volume_anomaly.JOB,
        "60-second volume windows per symbol and exchange; a window far above the hour before it is an anomaly",
        (ANOMALY_THRESHOLD, ANOMALY_MIN_PERIODS, WATERMARK, SYMBOLS, TRIGGER),
        (
            Query("aggregates", reads=TRADES, rows="volume_aggregates", transform=_aggregates),
            # applyInPandasWithState cannot follow a streaming aggregation in one query: the windows go to
            # Iceberg, and this query reads them back as a stream for the rolling baseline.
            Query(
                "anomalies",
                reads="volume_aggregates",
                rows="anomalies",
                transform=volume_anomaly.detect_anomalies,
                alerts=_anomaly_alerts,
                put_alerts=True,
                keeps_alerts=True,
                rows_are_alerts=True,  # the detector emits rows only for anomalies
            ),
        ),
    ),
    streaming_job(
        whale_detector.JOB,
        "trades above the whale threshold, alerted at once; their history in Iceberg",
        # history_trigger paces the live job's Iceberg history query; a replay writes its outputs once.
        (WHALE_THRESHOLD, WATERMARK, SYMBOLS, TRIGGER, HISTORY_TRIGGER),
        # Two queries over the same trades, each with its own checkpoint: the alerts to DynamoDB on the job's
        # trigger, and the Iceberg history (whale_trades, alerts) on history_trigger. A whale then waits for
        # no table commit, of its own batch or an earlier one; both sinks stay idempotent.
        (
            Query(
                "whales",
                reads=TRADES,
                rows="whale_trades",
                transform=whale_detector.whale_trades,
                writes_rows=False,
                alerts=_whale_alerts,
                put_alerts=True,
            ),
            Query(
                "history",
                reads=TRADES,
                rows="whale_trades",
                transform=whale_detector.whale_trades,
                alerts=_whale_alerts,
                keeps_alerts=True,
                trigger="history_trigger",
            ),
        ),
        warm_up=True,
    ),
    streaming_job(
        spread_calculator.JOB,
        "30-second cross-exchange VWAP spreads per symbol; a spread above the threshold raises an alert",
        (SPREAD_THRESHOLD, WATERMARK, SYMBOLS, TRIGGER),
        (
            Query(
                "spreads",
                reads=TRADES,
                rows="spreads",  # every window
                transform=_spreads,
                alerts=spread_alerts_to_alerts,
                put_alerts=True,
                keeps_alerts=True,
            ),
        ),
    ),
    batch_job(historical_loader, historical_loader.JOB, historical_loader.HELP, ("raw_trades",)),
    batch_job(reprocess, reprocess.JOB, reprocess.HELP, ("anomalies_reprocessed",), reprocess.SETTINGS),
    batch_job(schema_evolution, schema_evolution.JOB, schema_evolution.HELP, (schema_evolution.DEMO_TABLE,)),
)

JOBS_BY_NAME = {job.name: job for job in CATALOG}
STREAMING_JOBS = tuple(job for job in CATALOG if job.kind == STREAMING)
REPLAY_JOBS = tuple(job for job in CATALOG if job.replay)


def names(jobs: Sequence[Job]) -> tuple[str, ...]:
    return tuple(job.name for job in jobs)


def streaming_job_named(name: str) -> Job:
    """The streaming job called ``name``; ConfigError naming them all when there is none."""
    job = JOBS_BY_NAME.get(name)
    if job is None or job.kind != STREAMING:
        raise ConfigError(f"unknown streaming job {name!r}: one of {', '.join(names(STREAMING_JOBS))}")
    return job


def catalog_json() -> str:
    """The catalogue as JSON (sorted keys, the catalogue's order of jobs), as ``src/spark/jobs-catalog.json``."""
    return json.dumps({"jobs": [job.as_json() for job in CATALOG]}, indent=2, sort_keys=True) + "\n"


def catalog_text() -> str:
    """The catalogue for people: one line per job."""
    width = max(len(job.name) for job in CATALOG)
    lines = []
    for job in CATALOG:
        queries = ", ".join(q.name for q in job.queries) or "-"
        tables = ", ".join(job.tables) or "-"
        lines.append(f"{job.name:<{width}}  {job.kind:<9}  queries: {queries}; tables: {tables}")
    return "\n".join(lines) + "\n"
