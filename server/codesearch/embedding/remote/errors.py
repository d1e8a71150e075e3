"""Errors only a remote encoder raises (the ones every encoder may raise are in types)."""

from __future__ import annotations


class RemoteRequestError(ValueError):
    """The endpoint rejected the request itself (400, 413, 422): one of its texts is to blame,
    so the pipeline retries item by item to find which."""
