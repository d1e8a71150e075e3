"""The "torch" backend: the sentence-transformers model as packaged, fp32 on the CPU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from codesearch.embedding.huggingface import prepare_to_load
from codesearch.embedding.token_batches import check_rows, length_sorted_chunks, pad
from codesearch.embedding.types import ModelLoadError, ModelSpec, Vectors

BACKEND = "torch"


def torch_model_id(spec: ModelSpec) -> str:
    """The torch backend's vectors are the model's own: they carry the model's identity."""
    return spec.model_id


class TorchEncoder:
    """A loaded sentence-transformers model: L2-normalised float32 vectors (the Encoder).

    `threads` > 0 caps torch's CPU threads while this encoder runs, so indexing leaves
    cores to the editor; 0 leaves torch's own setting. Torch keeps one thread count for
    the whole process, so each call re-applies this encoder's.
    """

    takes_token_ids = True  # the pipeline's prepared ids are this model's tokens

    def __init__(self, spec: ModelSpec, model: Any, threads: int = 0) -> None:
        self.spec = spec
        self.threads = threads
        self._model = model
        self.dimensions: int = int(model.get_embedding_dimension())
        self.max_tokens: int = int(model.max_seq_length or 256)
        self.tokenizer: Any = model.tokenizer
        pad_id = getattr(self.tokenizer, "pad_token_id", None)
        self._pad_id = int(pad_id) if pad_id is not None else 0
        # What the model's forward takes beside the ids, as its own preprocessing builds
        # it: BERT wants token_type_ids, sentence-transformers 6 a "modality" tag.
        preprocess = getattr(model, "preprocess", None) or model.tokenize  # 6.x, else 5.x
        sample = preprocess(["code"])
        self._takes_token_types = "token_type_ids" in sample
        self._extra_features = {k: v for k, v in sample.items() if not hasattr(v, "shape")}
        self._apply_threads()

    @property
    def model_id(self) -> str:
        return torch_model_id(self.spec)

    @property
    def name(self) -> str:
        return self.spec.name

    def encode(self, texts: list[str], batch_size: int = 32) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        self._apply_threads()
        vectors = self._model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_ids(
        self, ids: Sequence[Sequence[int]], batch_size: int = 32, *, spare_core: bool = False
    ) -> Vectors:
        """The model run on the given ids, pooled and normalised as `encode` does.

        `spare_core` is ignored: torch's thread count is the whole process's, so narrowing
        it for one call would narrow every other caller's at the same time.
        """
        check_rows(ids, self.max_tokens, batch_size)
        result = np.zeros((len(ids), self.dimensions), dtype=np.float32)
        if not ids:
            return result
        import torch

        self._apply_threads()
        for chunk in length_sorted_chunks(ids, batch_size):
            input_ids, mask = pad([ids[i] for i in chunk], self._pad_id)
            features: dict[str, Any] = {
                "input_ids": torch.from_numpy(input_ids),
                "attention_mask": torch.from_numpy(mask),
            }
            if self._takes_token_types:
                features["token_type_ids"] = torch.zeros_like(features["input_ids"])
            features.update(self._extra_features)
            with torch.inference_mode():
                pooled = self._model(features)["sentence_embedding"]
                unit = torch.nn.functional.normalize(pooled, p=2, dim=1)
            result[chunk] = unit.float().numpy()
        return result

    def _apply_threads(self) -> None:
        if self.threads > 0:
            import torch

            if torch.get_num_threads() != self.threads:
                torch.set_num_threads(self.threads)


def load_torch(spec: ModelSpec, threads: int = 0) -> TorchEncoder:
    """Load `spec` with sentence-transformers on the CPU; raises ModelLoadError."""
    prepare_to_load(spec)
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(spec.source, device="cpu", local_files_only=spec.local)
        model.eval()
        return TorchEncoder(spec, model, threads)
    except Exception as exc:
        where = "local folder" if spec.local else "Hugging Face hub name"
        raise ModelLoadError(
            f"could not load embedding model {spec.name!r} "
            f"(tried {where} {spec.source}): {type(exc).__name__}: {exc}"
        ) from exc
