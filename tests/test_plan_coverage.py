"""Every named query in sql/ has a plan check or a stated exemption (benchmarks/cases).

The same static check the benchmark suite runs, imported from it so `make test`
enforces it too; it needs no data set: it compares the names in sql/ with the
cases and exemptions.
"""

from benchmarks.test_plans import test_every_query_has_a_plan_check

__all__ = ["test_every_query_has_a_plan_check"]
