"""coattail's PySpark jobs: one entry point, ``python -m coattail_jobs <job> [options]``."""

__version__ = "0.1.0"
