"""Where a Hugging Face hub model's files come from, decided in about a second.

Handed a hub name, sentence-transformers asks the hub for each file with five retries and
growing pauses: offline, a model that is not cached took 87 s to fail (measured here).
So before any backend loads a hub model: a cached snapshot is loaded from its folder with
no network at all; otherwise, with the network off, the load fails at once; otherwise one
question to the hub, with a short timeout and no retries, says whether the model can be
downloaded, and only then does the backend download it.
"""

from __future__ import annotations

import dataclasses
import logging
import os

from codesearch.embedding.types import ModelLoadError, ModelSpec

log = logging.getLogger(__name__)

# One question to the hub; a network that drops packets answers nothing for this long.
HUB_PROBE_TIMEOUT_S = 5.0
_TRUE = {"1", "on", "yes", "true"}


def hub_offline() -> bool:
    """Whether the hub is off for this process (HF_HUB_OFFLINE, as huggingface_hub reads
    it at import, or set since)."""
    from huggingface_hub import constants

    setting = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return bool(constants.HF_HUB_OFFLINE) or setting in _TRUE


def locate_hub_model(spec: ModelSpec) -> ModelSpec:
    """`spec` loading from its cached snapshot folder when there is one (same identity and
    name; no network); else `spec` unchanged once the hub says it can be downloaded.

    Raises ModelLoadError, naming what was tried, when the model is not cached and the hub
    is off, out of reach, or does not have it.
    """
    if spec.local:
        return spec
    from huggingface_hub import constants, snapshot_download

    name = spec.source
    cache = constants.HF_HUB_CACHE
    try:
        folder = snapshot_download(name, local_files_only=True)
    except Exception as exc:  # not cached (LocalEntryNotFoundError), or a malformed name
        log.debug("no cached snapshot of %s: %s", name, exc)
    else:
        log.debug("loading %s from its cached snapshot %s", name, folder)
        return dataclasses.replace(spec, source=str(folder), local=True)
    tried = f"tried hub name {name} in the local cache {cache}"
    if hub_offline():
        raise ModelLoadError(
            f"could not load model {spec.name!r}: not in the local cache and the network is "
            f"off (HF_HUB_OFFLINE); {tried}"
        )
    _ask_hub(spec, f"{tried} and at {constants.ENDPOINT}")
    return spec


def _ask_hub(spec: ModelSpec, tried: str) -> None:
    """One request with a short timeout: can this model be downloaded from the hub?"""
    from huggingface_hub import model_info
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        model_info(spec.source, timeout=HUB_PROBE_TIMEOUT_S)
    except GatedRepoError as exc:
        reason = f"the hub needs you to accept its terms and log in ({_first_line(exc)})"
    except RepositoryNotFoundError:
        reason = "no such model on the Hugging Face hub (or it is private: log in first)"
    except Exception as exc:
        reason = (
            "not in the local cache and the Hugging Face hub cannot be reached "
            f"({type(exc).__name__}: {_first_line(exc)})"
        )
    else:
        return
    raise ModelLoadError(f"could not load model {spec.name!r}: {reason}; {tried}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
