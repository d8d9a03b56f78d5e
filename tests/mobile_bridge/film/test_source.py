"""Reading a clip's encoded packets by GOPs, without decoding."""

from __future__ import annotations

import itertools

from mobile_bridge.film.source import Kind, open_clip
from tests.mobile_bridge.film.clips import make_clip


def gops_of(stream):
    out = []
    while gop := stream.next_gop():
        out.append(gop)
    stream.close()
    return out


def test_a_clip_reads_as_one_gop_per_second_each_starting_on_a_keyframe(tmp_path):
    path = make_clip(tmp_path / "a.ts", "red", seconds=3.0)
    gops = gops_of(open_clip(path))
    assert len(gops) == 3
    for second, gop in enumerate(gops):
        video = [p for p in gop if p.kind is Kind.VIDEO]
        assert len(video) == 30
        assert video[0].keyframe and not any(p.keyframe for p in video[1:])
        assert abs(video[0].pts_s - second) < 0.01
        assert video[0].data.startswith(b"\x00\x00\x00\x01")  # Annex-B with SPS/PPS
        assert {p.kind for p in gop} == {Kind.VIDEO, Kind.AUDIO}
    audio = [p for g in gops for p in g if p.kind is Kind.AUDIO]
    steps = {round(b.pts_s - a.pts_s, 4) for a, b in itertools.pairwise(audio)}
    assert steps == {0.06}


def test_preread_holds_the_first_gop_and_reading_goes_on_from_the_file(tmp_path):
    path = make_clip(tmp_path / "a.ts", "red", seconds=2.0)
    whole = [p for g in gops_of(open_clip(path)) for p in g]
    stream = open_clip(path).preread()
    assert stream.head and stream.head[0].pts_s < 0.01
    assert [p for g in gops_of(stream) for p in g] == whole


def test_audio_from_a_sibling_file_is_merged_in_time_order(tmp_path):
    path = make_clip(tmp_path / "b.ts", "blue", audio_path=tmp_path / "b-audio.ts")
    packets = [p for g in gops_of(open_clip(path, tmp_path / "b-audio.ts")) for p in g]
    assert {p.kind for p in packets} == {Kind.VIDEO, Kind.AUDIO}
    times = [p.pts_s for p in packets]
    assert times == sorted(times)
