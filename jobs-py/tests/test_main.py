"""The entry point's option handling (the jobs themselves are tested in their own files)."""

from __future__ import annotations

import argparse

import pytest

from coattail_jobs.__main__ import add_job_options, job_config, main, pipeline_configs
from coattail_jobs.config import check_locations


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_job_options(parser)
    return parser.parse_args(list(argv))


def test_settings_and_options_make_the_job_config() -> None:
    config = job_config(
        "volume-anomaly",
        _args(
            "--set",
            "threshold=3.0",
            "--set",
            "min_periods=5",
            "--kinesis-endpoint",
            "http://127.0.0.1:4568",
            "--trigger",
            "2 seconds",
        ),
    )
    assert (config.anomaly_threshold, config.anomaly_min_periods) == (3.0, 5)
    assert config.kinesis_endpoint == "http://127.0.0.1:4568"
    assert (config.trigger, config.watermark) == ("2 seconds", "2 minutes")


def test_a_bad_setting_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spread-calculator", "--set", "threshold=wide"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("coattail_jobs: bad value for threshold: ")
    assert err[0].endswith("write it like --set threshold=0.4")


def test_an_unknown_setting_names_the_ones_the_job_takes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["whale-detector", "--set", "min_periods=3"]) == 2
    assert capsys.readouterr().err.strip() == (
        "coattail_jobs: unknown setting 'min_periods' for whale-detector: "
        "it takes threshold, whale_threshold, watermark, symbols, trigger, history_trigger"
    )


def test_emr_mode_refuses_local_checkpoint_and_raw_roots(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["whale-detector", "--mode", "emr", "--raw-root", "s3://b/raw"]) == 2
    assert capsys.readouterr().err.strip() == (
        "coattail_jobs: --checkpoint-root '.coattail/checkpoints' is not on S3: in --mode emr it must be an "
        "s3:// location (e.g. s3://<bucket>/coattail/checkpoints)"
    )
    assert main(["raw-archiver", "--mode", "emr", "--checkpoint-root", "s3://b/ck", "--raw-root", "/tmp/raw"]) == 2
    assert "--raw-root '/tmp/raw' is not on S3" in capsys.readouterr().err
    # Both on S3, or local mode with local folders: accepted.
    check_locations(
        job_config("raw-archiver", _args("--mode", "emr", "--checkpoint-root", "s3://b/ck", "--raw-root", "s3://b/raw"))
    )
    check_locations(job_config("raw-archiver", _args()))


def _pipeline_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_job_options(parser, job_qualified=True)
    parser.add_argument("--jobs", default="raw-archiver,volume-anomaly,whale-detector,spread-calculator")
    return parser.parse_args(list(argv))


def test_pipeline_settings_go_to_the_job_they_name() -> None:
    configs = pipeline_configs(
        _pipeline_args(
            "--jobs",
            "whale-detector,spread-calculator",
            "--set",
            "whale-detector:trigger=1 second",
            "--set",
            "spread-calculator:threshold=0.2",
            "--set",
            "volume-anomaly:threshold=9",  # a job not in --jobs: ignored
            "--trigger",
            "3 seconds",
            "--kinesis-endpoint",
            "http://127.0.0.1:4567",
        )
    )
    assert [(c.job, c.trigger, c.whale_threshold, c.spread_threshold_pct) for c in configs] == [
        ("whale-detector", "1 second", 100_000.0, 0.5),
        ("spread-calculator", "3 seconds", 100_000.0, 0.2),
    ]
    assert {c.kinesis_endpoint for c in configs} == {"http://127.0.0.1:4567"}


def test_pipeline_refuses_unknown_jobs_and_unqualified_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pipeline", "--jobs", "whale-detector,price-oracle"]) == 2
    assert "--jobs 'whale-detector,price-oracle': name one or more of raw-archiver" in capsys.readouterr().err
    assert main(["pipeline", "--set", "threshold=3"]) == 2
    assert "is not JOB:NAME=VALUE" in capsys.readouterr().err
