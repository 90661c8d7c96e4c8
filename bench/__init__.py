"""Benchmarks run by hand (``python -m bench.extraction``) and guarded by regression tests."""
