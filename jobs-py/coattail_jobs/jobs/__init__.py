"""The jobs: each job's pure transforms (a ``DataFrame -> DataFrame`` function, or a factory returning one), one
module per job, and the catalogue of every job (``catalog.py``)."""
