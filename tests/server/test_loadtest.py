"""`kinoroom loadtest`: bot phones in worker processes against a live server, figures in JSON."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from server.loadtest import load_story_source, run_loadtest
from server.loadtest_report import report_lines

PHONES = 40


def test_the_load_story_holds_one_long_vote_with_its_margin():
    from narrative.validate import load_story

    story = load_story(load_story_source(10.0), "load.yaml")
    choice = story.scenes["vote"].choice
    assert choice is not None and (choice.at, choice.window) == (2.0, 10.0)
    assert story.scenes["end"].ending


@pytest.mark.asyncio
async def test_a_small_load_test_measures_every_phone_with_no_errors(live, tmp_path):
    out = tmp_path / "loadtest.json"
    lines: list[str] = []
    code = await asyncio.to_thread(
        run_loadtest, url=live.url, phones=PHONES, duration_s=1.5, procs=2, out=out,
        server_pid=os.getpid(), echo=lines.append, progress=lines.append,
    )  # fmt: skip
    result = json.loads(out.read_text(encoding="utf-8"))
    assert code == 0, result["errors"]
    assert result["errors"] == {}
    assert result["join"]["ok"] == result["connect"]["ok"] == PHONES
    assert result["join"]["per_s"] > 0 and result["connect"]["per_s"] > 0
    assert result["votes"] == {"votes": PHONES, "acked": PHONES, "rejected": {}, "reconnects": 0}
    assert result["phones_decided"] == {"vote": PHONES}
    for figure in ("vote_ack_ms", "decision_latency_ms", "decision_spread_ms"):
        assert 0 <= result[figure]["p50"] <= result[figure]["p99"] <= result[figure]["max"]
    assert sum(second["acks"] for second in result["ack_ms_by_second"]) == PHONES
    server = result["server"]
    assert server["pid"] == os.getpid() and server["rss_mb_peak_sampled"] > 0
    assert server["metrics"]["vote_ack_ms"]["count"] == PHONES
    # The summary says the same, with the targets beside the figures.
    assert lines == [*lines[:3], *report_lines(result), f"wrote {out}"]
    assert any(line.startswith("vote ack (phone side): p50") for line in lines)
