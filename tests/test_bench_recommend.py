"""The README's Watch next benchmark runs at its smoke size and writes its JSON and plot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_recommend_benchmark_runs_at_smoke_size(tmp_path):
    out = tmp_path / "recommend.json"
    done = subprocess.run(
        [sys.executable, "bench/recommend.py", "--smoke", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    assert set(results["hit_rate_at_3"]) == {"ours", "ours_no_explore", "popularity", "random"}
    assert set(results["coverage"]) == {"ours", "ours_no_explore"}
    assert len(results["learning_curve"]["ours"]) == 3
    assert out.with_suffix(".png").stat().st_size > 1000
    assert "bench/recommend.py" in (ROOT / "README.md").read_text()
