"""Reproducible speed and quality measurements (not run as tests)."""
