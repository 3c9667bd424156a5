"""Benchmarks of jupyter-automl against other AutoML tools (not part of the installed package)."""
