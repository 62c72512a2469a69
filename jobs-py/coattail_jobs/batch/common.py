"""What the batch jobs share: reading instants from the command line, files on a local disk or S3, the session."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pyarrow import fs as pafs  # type: ignore[import-untyped]  # pyarrow ships no type information

from ..config import ConfigError, JobConfig, local_spark_conf

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})$")
"""An ISO-8601 time WITH its zone (``Z`` or ``+02:00``): without one, which instant is meant is a guess.
The TypeScript side (src/commands/reprocess.ts) checks the same shape before starting Python."""

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_instant(text: str, option: str, *, dates: bool = False) -> datetime:
    """An ISO-8601 instant with a zone (or, with ``dates``, a bare date meaning its midnight UTC) -> aware UTC.

    ConfigError (one line, exit 2) for anything else."""
    example = "2024-05-01T12:00:00Z" + (" or 2024-05-01" if dates else "")
    if dates and ISO_DATE.match(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            raise ConfigError(f"{option} {text!r} is not a date: write it like {example}") from None
    if not ISO_INSTANT.match(text):
        raise ConfigError(f"{option} {text!r} is not an ISO-8601 time with a zone: write it like {example}")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a valid time: write it like {example}") from None


def epoch_micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def iso_millis(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and Z, the unified trade's format."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_from_epoch_millis(ms: int) -> str:
    return iso_millis(EPOCH + timedelta(milliseconds=ms))


def iso_from_epoch_micros(us: int) -> str:
    """ISO-8601 UTC with microseconds and Z, as the producer writes a microsecond time."""
    utc = EPOCH + timedelta(microseconds=us)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}Z"


def filesystem(location: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem and path of a local folder or an ``s3://`` URI (S3 through the default AWS credentials)."""
    if "://" in location:
        fs, path = pafs.FileSystem.from_uri(location)
        return fs, str(path)
    return pafs.LocalFileSystem(), str(Path(location).resolve())


def write_text(location: str, text: str) -> str:
    """Writes ``text`` to a local file (atomically, folders created) or an S3 object; returns where it went."""
    if "://" in location:
        fs, path = pafs.FileSystem.from_uri(location)
        with fs.open_output_stream(path) as out:
            out.write(text.encode("utf-8"))
        return location
    target = Path(location).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    draft = target.with_name(f".{target.name}.partial")
    draft.write_text(text, encoding="utf-8")
    os.replace(draft, target)
    return str(target)


def check_s3(mode: str, option: str, location: str | None) -> None:
    """In ``--mode emr`` a location the job writes must be on S3: the driver's disk vanishes with the job run."""
    if mode == "emr" and location is not None and not location.startswith("s3://"):
        raise ConfigError(f"{option} {location!r} is not on S3: in --mode emr pass an s3:// location")


@contextmanager
def _jvm_stdout_to_stderr() -> Iterator[None]:
    """Starts the JVM with our stderr as its stdout: its chatter (Ivy's ``:: loading settings``, the log level
    hint) is for people, and this process's stdout carries only the job's data (JSON reports)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def batch_session(config: JobConfig, app: str) -> tuple[SparkSession, bool]:
    """The active SparkSession (tests, spark-submit), else a new one: local Iceberg, or EMR's own conf.

    Returns the session and whether this call created it (then the caller stops it)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    builder = SparkSession.builder.appName(app)
    if config.mode == "local":
        # Python workers must run this interpreter (pandas, pyarrow), not whatever python3 is on the PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        for key, value in local_spark_conf(config).items():
            builder = builder.config(key, value)
    with _jvm_stdout_to_stderr():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    logging.getLogger(__name__).info("Spark %s ready (%s)", spark.version, config.mode)
    return spark, True
