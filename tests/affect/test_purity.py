"""affect/'s pure cores import no I/O, clock, model runtime or server code (DESIGN.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_packages import BANNED_IN_PURE, imported_roots

ROOT = Path(__file__).resolve().parent.parent.parent
PURE = ["appraisal", "baseline", "errors", "face_crop", "quality", "rppg"]
BANNED = BANNED_IN_PURE | {"mediapipe", "onnxruntime", "torch", "urllib", "pathlib", "cv2"}


@pytest.mark.parametrize("name", PURE)
def test_affect_core_stays_pure(name):
    banned = imported_roots(ROOT / "affect" / f"{name}.py") & BANNED
    assert not banned, f"affect/{name}.py imports {sorted(banned)}"


def test_only_export_fer_mentions_torch():
    users = {p.name for p in (ROOT / "affect").glob("*.py") if "torch" in imported_roots(p)}
    assert users == {"export_fer.py"}


def test_importing_the_package_loads_no_model_runtime():
    runtimes = "{'mediapipe', 'onnxruntime', 'torch'}"
    code = f"import sys, affect; print(sorted({runtimes} & {{*sys.modules}}))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
