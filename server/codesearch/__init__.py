"""Codesearch: local semantic code search for editors and the command line."""

__version__ = "0.1.0"
