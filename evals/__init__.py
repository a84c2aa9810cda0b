"""Offline evaluation (``advisor.evals``): YAML eval sets and their runner."""
