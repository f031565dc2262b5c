"""restflow's benchmark suite: ``python -m bench`` (see README, "Benchmarks")."""
