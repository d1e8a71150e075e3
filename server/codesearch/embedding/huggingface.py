"""The one place that readies the Hugging Face libraries before a model or tokenizer loads.

Every load that uses transformers (torch backend, the export child, a tokenizer without a
tokenizer.json) goes through `prepare_to_load`, so a local model never reaches for the
network and nothing prints progress bars or warnings on a user's terminal or the language
server's stderr. A load that needs only the `tokenizers` library calls
`prepare_environment`, which does not import transformers (seconds of a server's start).
"""

from __future__ import annotations

import os

from codesearch.embedding.types import ModelSpec


def prepare_to_load(spec: ModelSpec) -> None:
    """Offline environment for a local model, then quiet transformers (imports it)."""
    prepare_environment(spec)
    _quiet_transformers()


def prepare_environment(spec: ModelSpec) -> None:
    """Offline environment for a local model; tokenizers that run on the calling thread."""
    if spec.local:
        # A local model must never reach for the network (nor wait on it).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _quiet_transformers() -> None:
    """No weight-loading progress bars, nor "sequence longer than the maximum" warnings."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    except Exception:  # older or newer transformers: cosmetic only
        pass
