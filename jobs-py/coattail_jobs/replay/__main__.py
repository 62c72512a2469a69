"""``python -m coattail_jobs.replay``: the same command as ``python -m coattail_jobs replay``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
