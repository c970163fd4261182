"""Query benchmarks and EXPLAIN plan checks (run with `make bench`)."""
