"""Helpers shared by the tests and the benchmarks; not part of the installed package.

corpus     the snapshot files committed in the repository (and the shared corpus)
pages      realistic article pages built from an Article
articles   small hand-built articles and diffs
cli        invoking the `monitor` command line in-process
server     a local HTTP server whose pages a test changes between checks
receivers  a local SMTP server and webhook endpoint
daemon     the real daemon as a subprocess, and waiting with deadlines
"""
