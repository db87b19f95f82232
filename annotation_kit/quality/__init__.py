"""How good the work is: agreement, consensus, gold, rules, progress, workload, charts and the
DuckDB analytics."""
