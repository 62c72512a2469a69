"""The catalogue of jobs: what it says of each job (from the spec, by hand), that the entry point runs every job
of it and no other, and that the TypeScript side's copy (src/spark/jobs-catalog.json) is the rendered one.

No Spark here: the entry point's job runners are replaced by recorders.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest

from coattail_jobs import __main__ as entry
from coattail_jobs.config import JobConfig
from coattail_jobs.jobs.catalog import CATALOG, JOBS_BY_NAME, catalog_json
from coattail_jobs.replay import cli as replay_cli
from coattail_jobs.schemas import TABLES_BY_NAME

REPO = Path(__file__).resolve().parents[2]
CHECKED_IN = REPO / "src" / "spark" / "jobs-catalog.json"

# The spec's naming of jobs, in its order: the four streaming jobs, then the three batch jobs.
STREAMING = ["raw-archiver", "volume-anomaly", "whale-detector", "spread-calculator"]
BATCH = ["historical-loader", "reprocess-anomalies", "schema-evolution-demo"]
# The entry point's commands that are tools, not jobs.
TOOLS = {"pipeline", "replay", "pack-env", "jars", "ddl", "spark-conf", "ddl-apply-local", "catalog"}
# The least each batch job's command needs to run.
BATCH_ARGS = {
    "historical-loader": ["--symbol", "BTC-USDT", "--start", "2024-01-01", "--end", "2024-01-02"],
    "reprocess-anomalies": ["--as-of", "2024-01-01T00:00:00Z"],
    "schema-evolution-demo": [],
}


def _rendered() -> dict[str, Any]:
    catalog: dict[str, Any] = json.loads(catalog_json())
    return catalog


def _job(name: str) -> dict[str, Any]:
    jobs: list[dict[str, Any]] = _rendered()["jobs"]
    (job,) = [j for j in jobs if j["name"] == name]
    return job


def test_the_checked_in_catalogue_is_the_rendered_one() -> None:
    assert CHECKED_IN.exists(), f"{CHECKED_IN} is missing: run `make catalog` at the repository root"
    assert CHECKED_IN.read_text(encoding="utf-8") == catalog_json(), (
        f"{CHECKED_IN.relative_to(REPO)} differs from `python -m coattail_jobs catalog --json`: "
        "run `make catalog` at the repository root and commit the file"
    )


def test_the_catalog_command_prints_the_json_and_writes_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert entry.main(["catalog", "--json"]) == 0
    assert capsys.readouterr().out == catalog_json()
    out = tmp_path / "jobs-catalog.json"
    assert entry.main(["catalog", "--json", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == catalog_json()
    assert [p.name for p in tmp_path.iterdir()] == ["jobs-catalog.json"]  # no draft left behind
    assert entry.main(["catalog"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == STREAMING + BATCH


def test_every_job_of_the_spec_in_its_order_and_kind() -> None:
    jobs = _rendered()["jobs"]
    assert [j["name"] for j in jobs] == STREAMING + BATCH
    assert [j["kind"] for j in jobs] == ["streaming"] * 4 + ["batch"] * 3
    assert [j["replay"] for j in jobs] == [True] * 4 + [False] * 3
    for job in jobs:
        assert sorted(job) == [
            "iceberg_queries",
            "kind",
            "name",
            "queries",
            "replay",
            "settings",
            "summary",
            "tables",
        ]
        assert job["summary"]
        for setting in job["settings"]:
            assert sorted(setting) == ["aliases", "default", "help", "key"]


def test_the_kinesis_queries_are_the_checkpoint_folders_in_order() -> None:
    # docs/ARCHITECTURE.md: whale-detector's two queries, `whales` and `history`; volume-anomaly's second query
    # reads volume_aggregates from Iceberg, not Kinesis.
    assert {name: _job(name)["queries"] for name in STREAMING} == {
        "raw-archiver": ["raw"],
        "volume-anomaly": ["aggregates"],
        "whale-detector": ["whales", "history"],
        "spread-calculator": ["spreads"],
    }
    assert {name: _job(name)["iceberg_queries"] for name in STREAMING + BATCH if _job(name)["iceberg_queries"]} == {
        "volume-anomaly": {"anomalies": "volume_aggregates"}
    }
    assert all(_job(name)["queries"] == [] for name in BATCH)


def test_the_tables_each_job_writes() -> None:
    # The spec: raw-archiver -> raw_trades; volume-anomaly -> volume_aggregates, anomalies (and the alerts'
    # history); whale-detector -> whale_trades (and alerts); spread-calculator -> spreads (and alerts);
    # reprocess-anomalies -> anomalies_reprocessed; the schema-evolution demo a table of its own;
    # historical-loader MERGEs REST trades into raw_trades.
    assert {j["name"]: j["tables"] for j in _rendered()["jobs"]} == {
        "raw-archiver": ["raw_trades"],
        "volume-anomaly": ["volume_aggregates", "anomalies", "alerts"],
        "whale-detector": ["whale_trades", "alerts"],
        "spread-calculator": ["spreads", "alerts"],
        "historical-loader": ["raw_trades"],
        "reprocess-anomalies": ["anomalies_reprocessed"],
        "schema-evolution-demo": ["schema_evolution_demo"],
    }
    for job in CATALOG:
        for query in job.queries:
            assert query.rows in TABLES_BY_NAME, f"{job.name} {query.name}: no table {query.rows}"


def test_the_settings_and_their_defaults_are_the_specs() -> None:
    def defaults(name: str) -> dict[str, object]:
        return {s["key"]: s["default"] for s in _job(name)["settings"]}

    symbols = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    watermark, trigger = "2 minutes", "5 seconds"
    assert defaults("raw-archiver") == {"symbols": symbols, "trigger": trigger}  # no watermark: late trades kept
    assert defaults("volume-anomaly") == {
        "threshold": 2.5,
        "min_periods": 10,
        "watermark": watermark,
        "symbols": symbols,
        "trigger": trigger,
    }
    assert defaults("whale-detector") == {
        "threshold": 100_000.0,
        "watermark": watermark,
        "symbols": symbols,
        "trigger": trigger,
        "history_trigger": None,  # the trigger unless set
    }
    assert defaults("spread-calculator") == {
        "threshold": 0.5,
        "watermark": watermark,
        "symbols": symbols,
        "trigger": trigger,
    }
    assert defaults("reprocess-anomalies") == {"threshold": 2.5, "min_periods": 10}
    assert defaults("historical-loader") == defaults("schema-evolution-demo") == {}
    aliases = {s["key"]: s["aliases"] for s in _job("volume-anomaly")["settings"] if s["aliases"]}
    assert aliases == {"threshold": ["anomaly_threshold"], "min_periods": ["anomaly_min_periods"]}


def test_a_job_takes_its_settings_under_every_name() -> None:
    whale = JOBS_BY_NAME["whale-detector"]
    assert whale.configure(["threshold=250000"]).whale_threshold == 250_000.0
    assert whale.configure(["whale_threshold=300000"]).whale_threshold == 300_000.0
    config = JOBS_BY_NAME["volume-anomaly"].configure(["min_periods=20", "anomaly_threshold=3"])
    assert (config.anomaly_min_periods, config.anomaly_threshold) == (20, 3.0)
    base = JobConfig(job="spread-calculator", trigger="1 second")
    assert JOBS_BY_NAME["spread-calculator"].configure(["threshold=0.25"], base).trigger == "1 second"


# ---------------------------------------------------------------- the entry point runs the catalogue's jobs


def _commands(capsys: pytest.CaptureFixture[str]) -> set[str]:
    with pytest.raises(SystemExit) as done:
        entry.main(["--help"])
    assert done.value.code == 0
    usage = capsys.readouterr().out
    match = re.search(r"\{([a-z,-]+)\}", usage)
    assert match is not None, usage
    return set(match.group(1).split(","))


def test_every_name_the_entry_point_accepts_is_a_job_of_the_catalogue_or_a_tool(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _commands(capsys) - TOOLS == set(STREAMING + BATCH)


@pytest.mark.parametrize("job", STREAMING)
def test_every_streaming_job_runs_from_its_command(job: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[list[JobConfig]] = []

    def run_pipeline(configs: list[JobConfig], *, warm_up: bool = False) -> int:
        ran.append(configs)
        return 0

    monkeypatch.setattr(entry, "run_pipeline", run_pipeline)
    assert entry.main([job, "--trigger", "2 seconds"]) == 0
    assert [[(c.job, c.trigger) for c in configs] for configs in ran] == [[(job, "2 seconds")]]
    # Every streaming job also runs in a pipeline, by its name.
    assert entry.main(["pipeline", "--jobs", job]) == 0
    assert [c.job for c in ran[-1]] == [job]


def test_a_pipeline_runs_every_streaming_job_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[list[str]] = []

    def run_pipeline(configs: list[JobConfig], *, warm_up: bool = False) -> int:
        ran.append([c.job for c in configs])
        return 0

    monkeypatch.setattr(entry, "run_pipeline", run_pipeline)
    assert entry.main(["pipeline"]) == 0
    assert ran == [STREAMING]


def test_every_batch_job_of_the_catalogue_has_its_arguments_here() -> None:
    assert sorted(BATCH_ARGS) == sorted(BATCH)


@pytest.mark.parametrize("job", BATCH)
def test_every_batch_job_runs_from_its_command(job: str, monkeypatch: pytest.MonkeyPatch) -> None:
    entry_point = JOBS_BY_NAME[job].entry
    assert entry_point is not None
    ran: list[str] = []

    def run_from_args(args: argparse.Namespace) -> int:
        ran.append(args.command)
        return 0

    monkeypatch.setattr(entry_point, "run_from_args", run_from_args)
    assert entry.main([job, *BATCH_ARGS[job]]) == 0
    assert ran == [job]


class _NoSpark:
    def stop(self) -> None:
        pass


@pytest.mark.parametrize("job", STREAMING)
def test_replay_runs_every_job_the_catalogue_says_it_does(
    job: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ran: list[str] = []

    def run_replay(spark: object, config: JobConfig, input_path: Path, out_dir: Path) -> object:
        ran.append(config.job)
        raise SystemExit(0)  # the job was found and configured: that is all this test asks

    monkeypatch.setattr(replay_cli, "replay_session", _NoSpark)
    monkeypatch.setattr(replay_cli, "run_replay", run_replay)
    recording = tmp_path / "trades.jsonl"
    recording.write_text("")
    with pytest.raises(SystemExit):
        entry.main(["replay", job, "--input", str(recording), "--out", str(tmp_path / "out")])
    assert ran == [job]


def test_replay_refuses_a_job_it_does_not_run_naming_those_it_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    recording = tmp_path / "trades.jsonl"
    recording.write_text("")
    assert entry.main(["replay", "historical-loader", "--input", str(recording), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        "replay: unknown job 'historical-loader': replay runs "
        "raw-archiver, volume-anomaly, whale-detector, spread-calculator"
    )
