"""Which model answers at an endpoint, known by its vectors rather than by its name.

A served name says little ("default", "embed", a name reused for a new revision), and the
same model may be served under two names. So a remote model's identity is its dimensions
and a fingerprint of the vectors it gives for a few fixed probe texts.

The same model on two servers does not give bit-identical vectors: fp32 torch and an int8
ONNX export differ by a cosine of about 0.99, batches pad differently, GPUs sum in other
orders. Any hash of the raw (or rounded) numbers would split one model into many identities
whenever a component sits near a rounding edge. So fingerprints are kept in a registry:
the first probe vectors seen for a model are recorded under a hash of themselves, and a
later server whose probe vectors are all within SAME_MODEL_MIN_COSINE of a record takes
that record's fingerprint. Another model gives unrelated vectors (cosine near 0) and a new
fingerprint. The registry lives in the shared tier when there is one (so a team agrees on
one fingerprint; a read-check-record transaction there), and in a small file in the user
cache folder (so one machine agrees with itself, and offline).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from codesearch.embedding.types import Vectors
from codesearch.locations import cache_base

log = logging.getLogger(__name__)

# Fixed forever: changing a text changes every remote model's fingerprint.
PROBE_TEXTS: tuple[str, ...] = (
    "def retry_failed_upload(client, path):\n    return client.put(path, retries=3)",
    "class LRUCache:\n    def get(self, key):\n        return self._data.get(key)",
    "function debounce(fn, ms) { let t; return () => { clearTimeout(t); "
    "t = setTimeout(fn, ms); }; }",
    "parse the configuration file and report invalid settings",
)
# The same model across backends and hardware: on these texts the int8 export and fp32 torch
# serving all-MiniLM-L6-v2 agree to a cosine of 0.993 at worst (infinity-emb and fp32 torch:
# 1.0); a rotated copy, standing for another model, gives -0.03 to 0.08.
SAME_MODEL_MIN_COSINE = 0.97
PROBE_FILE = "remote-models.json"


@dataclass(frozen=True)
class ModelIdentity:
    """A remote model: the served name is for people, dimensions and fingerprint for keys."""

    name: str
    dimensions: int
    fingerprint: str

    @property
    def model_id(self) -> str:
        return f"remote:{self.dimensions}:{self.fingerprint}"


class RegistryUnavailable(RuntimeError):
    """A registry cannot be read now (the shared tier is down): the next one decides."""


class ProbeRegistry(Protocol):
    """Recorded probe vectors by fingerprint (one place: a file, or the shared tier)."""

    def match_or_record(self, probe: Vectors) -> str:
        """The fingerprint of the record these probe vectors match; a new record if none."""
        ...

    def adopt(self, fingerprint: str, probe: Vectors) -> None:
        """Record a fingerprint chosen by another registry (the team's), replacing a record
        of the same model under another fingerprint."""
        ...


def normalised(probe: Vectors) -> Vectors:
    matrix = np.asarray(probe, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.asarray(matrix / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def probe_fingerprint(probe: Vectors) -> str:
    """A new record's name: a hash of its (rounded) vectors and their shape."""
    matrix = normalised(probe)
    digest = hashlib.blake2b(digest_size=8)
    digest.update(f"{matrix.shape[0]}x{matrix.shape[1]}".encode())
    digest.update(np.round(matrix * 64).astype(np.int8).tobytes())
    return digest.hexdigest()


def probe_cosines(a: Vectors, b: Vectors) -> Vectors:
    """Cosine of each probe text's vector in `a` with its vector in `b`."""
    return np.asarray(np.sum(normalised(a) * normalised(b), axis=1), dtype=np.float32)


def same_model(a: Vectors, b: Vectors) -> bool:
    if a.shape != b.shape:
        return False
    return bool(np.min(probe_cosines(a, b)) >= SAME_MODEL_MIN_COSINE)


def best_match(records: Mapping[str, Vectors], probe: Vectors) -> str | None:
    """The record the probe matches; of several, the smallest fingerprint.

    A rule that depends on the records alone, not on this probe's cosines: two machines
    that recorded the same model at the same moment (two records) both settle on one.
    """
    for fingerprint in sorted(records):
        if same_model(records[fingerprint], probe):
            return fingerprint
    return None


def identify(name: str, probe: Vectors, registries: Sequence[ProbeRegistry]) -> ModelIdentity:
    """The identity of the model that gave these probe vectors.

    The first registry that answers decides (the shared one when there is one); the ones
    after it adopt its answer. With none, the fingerprint is the hash of these vectors.
    """
    matrix = normalised(probe)
    if matrix.ndim != 2 or matrix.shape[0] != len(PROBE_TEXTS):
        raise ValueError(f"expected {len(PROBE_TEXTS)} probe vectors, got shape {matrix.shape}")
    fingerprint: str | None = None
    for position, registry in enumerate(registries):
        try:
            fingerprint = registry.match_or_record(matrix)
        except RegistryUnavailable as exc:
            log.warning("model fingerprint registry unavailable (%s); using the next one", exc)
            continue
        for other in registries[position + 1 :]:
            other.adopt(fingerprint, matrix)
        break
    if fingerprint is None:
        fingerprint = probe_fingerprint(matrix)
    return ModelIdentity(name, int(matrix.shape[1]), fingerprint)


def probe_file_path() -> Path:
    """`$CODESEARCH_CACHE_DIR/remote-models.json`, else the user cache folder's."""
    return cache_base() / PROBE_FILE


class ProbeFile:
    """A registry in a small JSON file: fingerprint -> probe vectors (float32, base64).

    Only vectors and hashes are written (no names, URLs or keys). Writes go through a
    temporary file and a rename, under an advisory lock where the platform has one.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or probe_file_path()

    def match_or_record(self, probe: Vectors) -> str:
        with self._locked():
            records = self._read()
            found = best_match(records, probe)
            if found is not None:
                return found
            fingerprint = probe_fingerprint(probe)
            records[fingerprint] = normalised(probe)
            self._write(records)
            return fingerprint

    def adopt(self, fingerprint: str, probe: Vectors) -> None:
        with self._locked():
            records = self._read()
            stale = [
                fp for fp, rec in records.items() if fp != fingerprint and same_model(rec, probe)
            ]
            if fingerprint in records and not stale:
                return
            for fp in stale:
                del records[fp]
            records[fingerprint] = normalised(probe)
            self._write(records)

    def records(self) -> dict[str, Vectors]:
        return self._read()

    def _read(self) -> dict[str, Vectors]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            probes = data["probes"]
            out: dict[str, Vectors] = {}
            for fingerprint, entry in probes.items():
                raw = base64.b64decode(entry["vectors"])
                rows, width = int(entry["rows"]), int(entry["dimensions"])
                matrix = np.frombuffer(raw, dtype="<f4").reshape(rows, width)
                out[str(fingerprint)] = matrix.astype(np.float32)
            return out
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # a damaged file costs at most one re-identification, never the index
            log.warning("ignoring the unreadable remote model registry %s (%s)", self.path, exc)
            return {}

    def _write(self, records: Mapping[str, Vectors]) -> None:
        data = {
            "version": 1,
            "probes": {
                fingerprint: {
                    "rows": int(matrix.shape[0]),
                    "dimensions": int(matrix.shape[1]),
                    "vectors": base64.b64encode(matrix.astype("<f4").tobytes()).decode(),
                }
                for fingerprint, matrix in records.items()
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".probes-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:  # Windows: a lost race costs one re-identification
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
