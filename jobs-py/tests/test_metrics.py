"""Metrics sinks: the exact PutMetricData requests, throttling retries, errors raised, the local log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from mypy_boto3_cloudwatch.client import CloudWatchClient

from coattail_jobs.config import JobConfig
from coattail_jobs.metrics import CloudWatchMetrics, LoggingMetrics, metrics_sink_for

NAMESPACE = "CryptoPulse/Quality"
JOB = [{"Name": "Job", "Value": "raw-archiver"}]


@pytest.fixture
def client() -> CloudWatchClient:
    # Dummy keys: the Stubber answers before anything is signed or sent.
    return boto3.client(
        "cloudwatch", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@pytest.fixture
def stubber(client: CloudWatchClient) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def datum(name: str, value: float, unit: str = "Count") -> dict[str, object]:
    return {"MetricName": name, "Dimensions": JOB, "Value": value, "Unit": unit}


def test_one_call_with_units_values_and_dimensions(client: CloudWatchClient, stubber: Stubber) -> None:
    stubber.add_response(
        "put_metric_data",
        {},
        {
            "Namespace": NAMESPACE,
            "MetricData": [
                datum("RecordsProcessed", 8.0),
                datum("RecordsPassed", 6.0),
                datum("RecordsFailed", 2.0),
                datum("RecordsLate", 2.0),
                datum("QualityScore", 75.0, "Percent"),
                datum("malformed", 1.0),
                datum("validity_price_positive", 1.0),
            ],
        },
    )
    sink = CloudWatchMetrics(client)

    sink.publish(
        NAMESPACE,
        {
            "RecordsProcessed": 8,
            "RecordsPassed": 6,
            "RecordsFailed": 2,
            "RecordsLate": 2,
            "QualityScore": 75.0,
            "malformed": 1,
            "validity_price_positive": 1,
        },
        {"Job": "raw-archiver"},
    )


def test_more_than_1000_metrics_take_two_calls(client: CloudWatchClient, stubber: Stubber) -> None:
    metrics = {f"check_{i:04d}": float(i) for i in range(1001)}
    first = [datum(f"check_{i:04d}", float(i)) for i in range(1000)]
    stubber.add_response("put_metric_data", {}, {"Namespace": NAMESPACE, "MetricData": first})
    stubber.add_response("put_metric_data", {}, {"Namespace": NAMESPACE, "MetricData": [datum("check_1000", 1000.0)]})

    CloudWatchMetrics(client).publish(NAMESPACE, metrics, {"Job": "raw-archiver"})


def test_throttling_is_retried_with_growing_backoff(client: CloudWatchClient, stubber: Stubber) -> None:
    request = {"Namespace": NAMESPACE, "MetricData": [datum("RecordsProcessed", 3.0)]}
    for _ in range(2):
        stubber.add_client_error("put_metric_data", "Throttling", "Rate exceeded", 400, expected_params=request)
    stubber.add_response("put_metric_data", {}, request)
    slept: list[float] = []
    sink = CloudWatchMetrics(client, base_delay_s=0.2, sleep=slept.append, jitter=lambda: 1.0)

    sink.publish(NAMESPACE, {"RecordsProcessed": 3}, {"Job": "raw-archiver"})

    assert slept == [0.2, 0.4]  # 0.2 x 2^0, 0.2 x 2^1, each times the jitter of 1.0


def test_throttling_past_the_last_attempt_is_raised(client: CloudWatchClient, stubber: Stubber) -> None:
    for _ in range(3):
        stubber.add_client_error("put_metric_data", "Throttling", "Rate exceeded", 400)
    slept: list[float] = []
    sink = CloudWatchMetrics(client, max_attempts=3, base_delay_s=1.0, sleep=slept.append, jitter=lambda: 0.5)

    with pytest.raises(ClientError, match="Throttling"):
        sink.publish(NAMESPACE, {"RecordsProcessed": 3}, {})

    assert slept == [0.5, 1.0]  # two waits between three attempts: 1.0 x 0.5, 2.0 x 0.5


def test_other_errors_are_raised_at_once(client: CloudWatchClient, stubber: Stubber) -> None:
    stubber.add_client_error("put_metric_data", "InvalidParameterValue", "bad unit", 400)
    slept: list[float] = []

    with pytest.raises(ClientError, match="InvalidParameterValue"):
        CloudWatchMetrics(client, sleep=slept.append).publish(NAMESPACE, {"RecordsProcessed": 1}, {})

    assert slept == []


def test_values_cloudwatch_refuses_are_refused_before_any_call(client: CloudWatchClient, stubber: Stubber) -> None:
    with pytest.raises(ValueError, match="QualityScore is nan"):
        CloudWatchMetrics(client).publish(NAMESPACE, {"RecordsProcessed": 0, "QualityScore": float("nan")}, {})


def test_logging_metrics_logs_one_line_per_publish(caplog: pytest.LogCaptureFixture) -> None:
    sink = LoggingMetrics(logging.getLogger("test.metrics"))

    with caplog.at_level(logging.INFO, logger="test.metrics"):
        sink.publish(NAMESPACE, {"RecordsProcessed": 2.0, "QualityScore": 50.0}, {"Job": "whale-detector"})

    assert caplog.messages == [
        'metrics CryptoPulse/Quality {"Job": "whale-detector"} {"RecordsProcessed": 2.0, "QualityScore": 50.0}'
    ]


def test_the_sink_follows_the_mode(client: CloudWatchClient, monkeypatch: pytest.MonkeyPatch) -> None:
    regions: list[str] = []

    def fake_client(service: str, region_name: str) -> CloudWatchClient:
        assert service == "cloudwatch"
        regions.append(region_name)
        return client

    # No real client: building one would go looking for credentials.
    monkeypatch.setattr("coattail_jobs.metrics.boto3.client", fake_client)

    assert isinstance(metrics_sink_for(JobConfig(job="raw-archiver")), LoggingMetrics)
    assert isinstance(
        metrics_sink_for(JobConfig(job="raw-archiver", mode="emr", region="eu-west-1")), CloudWatchMetrics
    )
    assert regions == ["eu-west-1"]
