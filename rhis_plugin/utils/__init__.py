"""Utilities shared by tools and benchmarks."""
