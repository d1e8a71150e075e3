"""Workspace indexing: which files to index (scan, ignore rules) and how to read them safely."""
