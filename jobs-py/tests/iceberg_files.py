"""An Iceberg reader independent of Spark (pyiceberg over the table's own metadata files), to read back what
the jobs wrote to a Hadoop-catalog warehouse."""

from __future__ import annotations

from pathlib import Path

from pyiceberg.table import StaticTable


def table_folder(warehouse: Path, qualified: str) -> Path:
    """``coattail.ns.table`` -> ``{warehouse}/ns/table`` (the Hadoop catalog's layout)."""
    _catalog, namespace, name = qualified.split(".")
    return warehouse / namespace / name


def static_table(warehouse: Path, qualified: str) -> StaticTable:
    metadata = table_folder(warehouse, qualified) / "metadata"
    version = (metadata / "version-hint.text").read_text().strip()
    return StaticTable.from_metadata(f"file://{metadata / f'v{version}.metadata.json'}")


def read_rows(warehouse: Path, qualified: str) -> list[dict[str, object]]:
    """Every row of the table's current snapshot, by event_id."""
    rows: list[dict[str, object]] = static_table(warehouse, qualified).scan().to_arrow().to_pylist()
    return sorted(rows, key=lambda r: str(r["event_id"]))
