"""Benchmarks (not tests): each prints its ratio to a baseline run in the same script."""
