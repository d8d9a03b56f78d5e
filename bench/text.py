"""Benchmark of the text backend: tokens a second of the shipped SmolLM2 GGUF on the CPU.

Run with ``.venv/bin/python bench/text.py [--runs 3] [--new-tokens 64] [--device cpu]
[--threads N] [--model PATH] [--out FILE]``. Prints the figures and writes them as JSON (default
``bench/results/text.json``).

The prompt is the studio's own (`genmodels.drafts.build_messages`) for the bundled demo's
fullest vote with a card brief, so the prompt length is what a writer's request costs.
Each run is one draft: sampled at the studio's temperature with its own seed, at most
``--new-tokens`` new tokens (``min_new_tokens`` is not forced, so a run that ends early
counts the tokens it made). tokens/s = new tokens / generation seconds, prompt
processing included; model load (de-quantising the 98 MB GGUF) is reported apart, as it
happens once per process. ``--smoke``: one run of 2 tokens (the model still loads), to
check that it works.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from genmodels.drafts import TEMPERATURE, TOP_P, Brief, build_messages, node_context
from genmodels.text import Device, TextModel
from narrative.stories import DEMO
from narrative.validate import load_story

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu")
    parser.add_argument("--model", default=None, help="model id, folder or .gguf (default SmolLM2)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: cores)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "text.json")
    parser.add_argument("--smoke", action="store_true", help="one 2-token run: does it work?")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.new_tokens = 1, 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device: Device = args.device
    started = time.perf_counter()
    model = TextModel.load(args.model, device=device)
    load_s = time.perf_counter() - started

    story = load_story(DEMO.read_text(encoding="utf-8"))
    votes = {s: len(sc.choice.options) for s, sc in story.scenes.items() if sc.choice is not None}
    node = max(votes, key=lambda s: votes[s])
    messages = build_messages(node_context(story, node), Brief("card", "betrayal", "tense"))
    model.generate(messages, max_new_tokens=4, seed=0)  # warm-up: first call allocates

    runs = []
    for seed in range(args.runs):
        result = model.generate(
            messages,
            max_new_tokens=args.new_tokens,
            seed=seed,
            temperature=TEMPERATURE,
            top_p=TOP_P,
        )
        runs.append(
            {
                "seed": seed,
                "new_tokens": result.new_tokens,
                "seconds": round(result.seconds, 3),
                "tokens_per_s": round(result.new_tokens / result.seconds, 2),
                "text": result.text,
            }
        )
        print(f"run {seed}: {result.new_tokens} tokens in {result.seconds:.2f} s")
    tokens = sum(r["new_tokens"] for r in runs)  # type: ignore[misc]
    seconds = sum(r["seconds"] for r in runs)  # type: ignore[misc]
    figures = {
        "model": model.name,
        "device": model.device,
        "torch_threads": torch.get_num_threads(),
        "load_s": round(load_s, 2),
        "node": node,
        "runs": runs,
        "tokens_per_s": round(tokens / seconds, 2),
        "median_run_tokens_per_s": statistics.median(r["tokens_per_s"] for r in runs),  # type: ignore[misc]
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "smoke": args.smoke,
    }
    print(
        f"{model.name} on {model.device} ({figures['torch_threads']} threads): "
        f"{figures['tokens_per_s']} tokens/s over {args.runs} runs of ≤ {args.new_tokens} "
        f"new tokens; load {figures['load_s']} s"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
