"""Benchmarks: load generated on loopback, reported as ratios to baselines of the same run."""
