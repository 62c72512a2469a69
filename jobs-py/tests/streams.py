"""Feeding streaming tests: rows dropped into a folder a file source reads, one file per micro-batch."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pyspark.sql.types import StructType

# A schemas.TRADE row, field for field.
TradeRow = tuple[str, str, str, str, float, float, float, str, datetime, datetime]


def drop_json_file(folder: Path, name: str, schema: StructType, rows: Sequence[Sequence[object]]) -> None:
    """Rows as one JSON-lines file, atomically: the file source must never see half a file."""
    lines = []
    for row in rows:
        record = {
            key: value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
            for key, value in zip(schema.names, row, strict=True)
        }
        lines.append(json.dumps(record))
    staging = folder / f"_{name}"  # the file source skips names starting with "_"
    staging.write_text("\n".join(lines) + "\n")
    os.replace(staging, folder / name)
