"""Every shipped compiled ink story is what its source compiles to, as Inky writes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narrative.ink_story import BOM
from tests.narrative.ink_compiler import MISSING, ROOT, available, compile_file

SOURCES = sorted(
    [*(ROOT / "narrative" / "stories").glob("*.ink"), *(ROOT / "tests/narrative/ink").glob("*.ink")]
)


def test_the_corpus_and_the_bundled_story_are_there():
    names = {p.name for p in SOURCES}
    assert {"lamplighter.ink", "features.ink", "tags.ink", "fallback_first.ink"} <= names


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_shipped_json_is_the_compiled_source(source: Path, tmp_path):
    shipped = source.with_name(source.name + ".json").read_text(encoding="utf-8")
    assert shipped.startswith(BOM)  # as Inky and inklecate write it
    if not available():
        pytest.skip(MISSING)
    compiled = compile_file(source, tmp_path / "out.ink.json")
    assert json.loads(compiled.lstrip(BOM)) == json.loads(shipped.lstrip(BOM)), (
        f"{source.name} changed: run make ink"
    )
