"""A tiny randomly initialised Llama and a word-level tokenizer, saved like a real model.

Tests (and the server and browser tests) point ``TextModel`` / ``KINOROOM_TEXT_MODEL`` at
the folder: it loads in well under a second and writes gibberish from its vocabulary,
which is all the studio's plumbing needs. Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

WORDS = [
    "label", "text", "the", "a", "train", "night", "door", "mara", "stranger", "conductor",
    "envelope", "roof", "lights", "tunnel", "key", "ticket", "dark", "quiet", "runs", "opens",
    "hides", "laughs", "screams", "waits", "watches", "she", "he", "they", "it", "and", "but",
    "then", "into", "onto", "under", "over", "of", "to", "with", "from", "card", "scene", "rain",
    "station",
]  # fmt: skip
SPECIAL = ["<unk>", "<pad>", "<s>", "</s>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<s> {{ message['role'] }} : {{ message['content'] }} </s> "
    "{% endfor %}{% if add_generation_prompt %}<s> assistant : {% endif %}"
)


def build_tiny_lm(folder: Path, *, chat_template: bool = False, seed: int = 0) -> Path:
    """Save a ~40k-parameter LlamaForCausalLM and its tokenizer into ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate([*SPECIAL, *WORDS, ":", ".", ","])}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()]
    )
    core.decoder = decoders.WordPiece(prefix="##", cleanup=True)  # joins words with spaces
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
    )
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=vocab["<s>"],
        eos_token_id=vocab["</s>"],
        pad_token_id=vocab["<pad>"],
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


__all__ = ["WORDS", "build_tiny_lm"]
