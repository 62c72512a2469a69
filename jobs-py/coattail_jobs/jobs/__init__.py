"""The jobs' pure transforms: each a ``DataFrame -> DataFrame`` function (or a factory returning one)."""
