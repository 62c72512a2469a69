"""The entry point's option handling (the jobs themselves are tested in their own files)."""

from __future__ import annotations

import argparse

import pytest

from coattail_jobs.__main__ import add_job_options, job_config, main


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
        "it takes threshold, whale_threshold, watermark, symbols, trigger"
    )
