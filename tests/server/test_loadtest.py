"""`kinoroom loadtest`: bot phones in worker processes against a live server, figures in JSON."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from server.loadtest import load_story_source, run_loadtest
from server.loadtest_report import histogram, node_costs, report_lines

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
    [node] = result["nodes"]  # one server: one node, holding every phone and the host
    assert (node["node"], node["pid"], node["phones"]) == ("server", os.getpid(), PHONES + 1)
    assert result["redis"] is None  # no cluster, no Redis to count
    # The summary says the same, with the targets beside the figures.
    assert lines == [*lines[:3], *report_lines(result), f"wrote {out}"]
    assert any(line.startswith("vote ack (phone side): p50") for line in lines)


def bucket(node: str, le: str, value: float) -> tuple[str, dict[str, str], float]:
    return ("kinoroom_vote_ack_seconds_bucket", {"le": le, "node": node}, value)


def test_a_histogram_read_from_two_nodes_is_their_sum():
    samples = [
        bucket("a", "0.01", 90), bucket("a", "0.1", 100), bucket("a", "+Inf", 100),
        ("kinoroom_vote_ack_seconds_count", {"node": "a"}, 100),
        ("kinoroom_vote_ack_seconds_sum", {"node": "a"}, 0.5),
        bucket("b", "0.01", 0), bucket("b", "0.1", 80), bucket("b", "+Inf", 100),
        ("kinoroom_vote_ack_seconds_count", {"node": "b"}, 100),
        ("kinoroom_vote_ack_seconds_sum", {"node": "b"}, 5.5),
    ]  # fmt: skip
    assert histogram(samples, 1000.0) == {
        "count": 200,
        "mean": 30.0,
        "p50_le": 100.0,
        "p99_le": None,
    }
    assert histogram(samples[:5], 1000.0)["p50_le"] == 10.0  # node a alone


def test_each_node_is_its_process_cpu_over_the_phones_it_held():
    server = {
        "pid": 10, "vote_s": 4.0,
        "processes": [{"pid": 10, "vote_cpu_s": 0.0}, {"pid": 11, "vote_cpu_s": 2.0},
                      {"pid": 12, "vote_cpu_s": 1.0}],
    }  # fmt: skip
    at_start = {"nodes": {"box-11-ab12": {"sockets": 1000.0}, "box-12-cd34": {"sockets": 250.0}}}
    assert node_costs(server, at_start) == [
        {"node": "box-11-ab12", "pid": 11, "phones": 1000, "vote_cpu_s": 2.0, "cores": 0.5,
         "cores_per_1000_phones": 0.5},
        {"node": "box-12-cd34", "pid": 12, "phones": 250, "vote_cpu_s": 1.0, "cores": 0.25,
         "cores_per_1000_phones": 1.0},
    ]  # fmt: skip
    # One server, no cluster: it is the one node.
    lone = node_costs({**server, "pid": 11}, {"sockets": 500.0})
    assert [(n["node"], n["pid"], n["phones"], n["cores"]) for n in lone] == [
        ("server", 11, 500, 0.5)
    ]
