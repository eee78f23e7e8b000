"""The benchmark of issue #8: run it with `make bench` (see run.py)."""
