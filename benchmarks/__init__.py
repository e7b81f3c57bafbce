"""portwatch benchmarks: each ``bench_*.py`` compares against a peer or a limit in the
same run and writes its own section of ``docs/benchmarks.md``."""
