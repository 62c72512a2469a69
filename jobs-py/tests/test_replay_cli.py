"""replay's command line: settings by each job's names, and bad settings, jobs and paths as one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from coattail_jobs.replay.runner import replay_config

from .recordings import run_cli


def test_settings_map_threshold_to_each_jobs_own() -> None:
    assert replay_config("whale-detector", ["threshold=250000"]).whale_threshold == 250_000.0
    assert replay_config("volume-anomaly", ["threshold=3", "min_periods=20"]).anomaly_threshold == 3.0
    assert replay_config("volume-anomaly", ["min_periods=20"]).anomaly_min_periods == 20
    assert replay_config("spread-calculator", ["threshold=0.25"]).spread_threshold_pct == 0.25
    config = replay_config("spread-calculator", ["watermark= 5  minutes", "symbols=btc-usdt, XRP-USDT"])
    assert (config.watermark, config.symbols) == ("5 minutes", ("BTC-USDT", "XRP-USDT"))


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["whale-detector", "--set", "treshold=3"],
            "replay: unknown setting 'treshold' for whale-detector: it takes threshold, whale_threshold, "
            "watermark, symbols, trigger, history_trigger",
        ),
        (
            ["raw-archiver", "--set", "threshold=3"],
            "replay: unknown setting 'threshold' for raw-archiver: it takes symbols, trigger",
        ),
        (
            ["volume-anomaly", "--set", "threshold=high"],
            "replay: bad value for threshold: 'high' is not a number: write it like --set threshold=3.0",
        ),
        (
            ["whale-detector", "--set", "threshold=0"],
            "replay: bad value for threshold: '0' is not above 0: write it like --set threshold=250000",
        ),
        (
            ["volume-anomaly", "--set", "min_periods=2.5"],
            "replay: bad value for min_periods: '2.5' is not a whole number of at least 1: "
            "write it like --set min_periods=10",
        ),
        (
            ["spread-calculator", "--set", "watermark=soon"],
            "replay: bad value for watermark: 'soon' is not an interval like '2 minutes': "
            "write it like --set watermark='5 minutes'",
        ),
        (
            ["spread-calculator", "--set", "symbols=BTCUSDT"],
            "replay: bad value for symbols: 'BTCUSDT' is not BASE-QUOTE: write it like --set symbols=BTC-USDT,ETH-USDT",
        ),
        (["whale-detector", "--set", "threshold"], None),
        (["whale-detektor"], None),
    ],
)
def test_bad_settings_and_jobs_are_one_line_and_exit_2(
    argv: list[str], line: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "trades.jsonl"
    recording.write_text("")
    assert run_cli([*argv, "--input", str(recording), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    if line is not None:
        assert err == [line]
    assert not (tmp_path / "out").exists()


def test_bad_paths_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.jsonl"
    assert run_cli(["whale-detector", "--input", str(missing), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"replay: --input {missing}: no such file: pass a recording of unified trades (NDJSON)"
    ]
    recording = tmp_path / "trades.jsonl"
    recording.write_text("")
    assert run_cli(["whale-detector", "--input", str(recording), "--out", str(recording)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"replay: --out {recording}: is a file, not a folder: pass a folder for the outputs"
    ]
