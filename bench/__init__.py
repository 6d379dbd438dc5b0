"""Benchmarks: scripts that measure Firestop against its budgets and against peers."""
