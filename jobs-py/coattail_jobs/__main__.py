"""``python -m coattail_jobs <command> [options]``: every job and tool of the package, one entry point."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .ddl import write_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coattail_jobs", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ddl = sub.add_parser("ddl", help="write the Athena DDL (one file per table) rendered from the schemas")
    ddl.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "ddl", help="folder to write to")
    args = parser.parse_args(argv)
    if args.command == "ddl":
        for path in write_all(args.out):
            print(path, file=sys.stderr)
        return 0
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
