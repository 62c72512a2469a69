"""Custom metrics: CloudWatch on AWS, one log line per publish locally. Both behind ``MetricsSink``."""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

import boto3
from botocore.exceptions import ClientError

from coattail_jobs.config import JobConfig

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.client import CloudWatchClient
    from mypy_boto3_cloudwatch.literals import StandardUnitType
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDatumTypeDef

MAX_DATA_PER_CALL = 1000
"""PutMetricData accepts at most 1000 metric data in one request."""

DEFAULT_UNITS: Mapping[str, StandardUnitType] = {"QualityScore": "Percent"}
"""Units of metrics that are not counts; every other metric is a Count."""

# CloudWatch's throttling answers (the documented one first); anything else is not retried here.
THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"})


class MetricsSink(Protocol):
    """Where a job's custom metrics go: one call per batch, every metric with the same dimensions."""

    def publish(self, namespace: str, metrics: Mapping[str, float], dimensions: Mapping[str, str]) -> None: ...


class CloudWatchMetrics:
    """Publishes through PutMetricData: units from ``units`` (default Count), at most 1000 data per call.

    A throttled call is retried with exponential backoff and full jitter, ``max_attempts`` calls in all;
    any other error, or throttling past the last attempt, is raised.
    """

    def __init__(
        self,
        client: CloudWatchClient,
        *,
        units: Mapping[str, StandardUnitType] = DEFAULT_UNITS,
        max_attempts: int = 5,
        base_delay_s: float = 0.2,
        max_delay_s: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client = client
        self._units = dict(units)
        self._max_attempts = max_attempts
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s
        self._sleep = sleep
        self._jitter = jitter

    def publish(self, namespace: str, metrics: Mapping[str, float], dimensions: Mapping[str, str]) -> None:
        for name, value in metrics.items():
            # CloudWatch rejects a whole call over one NaN or infinity: name the culprit before sending.
            if not math.isfinite(value):
                raise ValueError(f"metric {name} is {value}: CloudWatch accepts only finite values")
        dims: list[DimensionTypeDef] = [{"Name": k, "Value": v} for k, v in dimensions.items()]
        data: list[MetricDatumTypeDef] = []
        for name, value in metrics.items():
            datum: MetricDatumTypeDef = {
                "MetricName": name,
                "Value": float(value),
                "Unit": self._units.get(name, "Count"),
            }
            if dims:
                datum["Dimensions"] = dims
            data.append(datum)
        for start in range(0, len(data), MAX_DATA_PER_CALL):
            self._put(namespace, data[start : start + MAX_DATA_PER_CALL])

    def _put(self, namespace: str, data: list[MetricDatumTypeDef]) -> None:
        for attempt in range(1, self._max_attempts + 1):
            try:
                self._client.put_metric_data(Namespace=namespace, MetricData=data)
                return
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                if code not in THROTTLING_CODES or attempt == self._max_attempts:
                    raise
                cap = min(self._max_delay_s, self._base_delay_s * 2 ** (attempt - 1))
                self._sleep(cap * self._jitter())


class LoggingMetrics:
    """Local mode: one INFO line per publish, the metrics as JSON, so a run's log is its dashboard."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def publish(self, namespace: str, metrics: Mapping[str, float], dimensions: Mapping[str, str]) -> None:
        self._logger.info(
            "metrics %s %s %s", namespace, json.dumps(dict(dimensions), sort_keys=True), json.dumps(dict(metrics))
        )


def metrics_sink_for(config: JobConfig) -> MetricsSink:
    """CloudWatch on EMR, the log locally (no AWS account there)."""
    if config.mode == "emr":
        return CloudWatchMetrics(boto3.client("cloudwatch", region_name=config.region))
    return LoggingMetrics(logging.getLogger("coattail_jobs.metrics"))
