"""Manifests as stored: the plain data written per file must round-trip exactly."""

from __future__ import annotations

import dataclasses

from codesearch.store import EntityFailure, EntityRecord, FileManifest


def test_manifest_data_is_asdict_and_round_trips() -> None:
    manifest = FileManifest(
        "pkg/mod.py",
        1_700_000_000_000_000_000,
        1234,
        "hash",
        "python",
        entities=(
            EntityRecord("f", "function", "python", 1, 3, 0, 8, "k1", "def f():", "f f f x"),
            EntityRecord("C.m", "method", "python", 5, 9, 4, 12, "k2", "def m(self):", ""),
        ),
        failures=(EntityFailure("g", "function", 11, 12, "model failed"),),
    )
    data = manifest.to_data()
    assert data == dataclasses.asdict(manifest)
    assert isinstance(data["entities"], tuple) and isinstance(data["entities"][0], dict)
    assert FileManifest.from_data(data) == manifest
    failed = FileManifest("bad.py", 1, 2, "", "python", error="could not be decoded")
    assert FileManifest.from_data(failed.to_data()) == failed
