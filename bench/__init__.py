"""Benchmarks: each one starts what it needs, compares against its baseline, and cleans up."""
