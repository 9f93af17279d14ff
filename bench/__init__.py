"""Benchmarks of article-monitor: `python -m bench` (see README)."""
