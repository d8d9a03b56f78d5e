"""What crosses Redis between processes comes back exactly as it went."""

from __future__ import annotations

import pytest

from mobile_bridge.protocol import Affect, HostCommand, Vote
from narrative.events import AffectSample, OpenVote, PlayScene
from narrative.ids import ChoiceId, DeviceId, OptionId, SceneId
from narrative.screening import Phase
from server.cluster.wire import (
    WireError,
    decode_broadcast,
    decode_item,
    encode_broadcast,
    encode_item,
)
from server.rooms.audience import EVERYONE, Item, PageKey, PageRef, Send, ToDevice, ToPage
from server.rooms.broadcast import Broadcast
from server.rooms.core import RoomSummary
from server.rooms.film_cues import Cut, Next, Prepare
from server.rooms.inbox import Attach, Detach, Incoming, Sensed

PAGE = PageRef(PageKey("9f2c"), DeviceId("p-1"), "phone", "Ada", 2.0)
HOST = PageRef(PageKey("77aa"), DeviceId("h-1"), "host", "host")


@pytest.mark.parametrize(
    "item",
    [
        Attach(PAGE),
        Attach(PAGE, resumed=True),
        Detach(HOST),
        Incoming(PAGE, Vote(choice="door", seq=3, ranking=["a", "b"], cast_t=12.5), 815.25, 815.1),
        Incoming(PAGE, Vote(choice="door", seq=4, option="a"), 815.5),
        Incoming(PAGE, Affect(valence=0.25, arousal=-0.5, engagement=0.75), 816.0),
        Incoming(HOST, HostCommand(action="force", id=7, option="a"), 817.0),
        Sensed(AffectSample(DeviceId("p-1"), 0.1, 0.2, 0.3, 818.0, 71.5)),
    ],
    ids=lambda item: type(item).__name__,
)
def test_every_item_round_trips(item):
    assert decode_item(encode_item(item)) == item


def test_a_broadcast_round_trips_with_its_film_orders_and_summary():
    playing = PlayScene(SceneId("hall"), None, "quick/hall", -3.5, 10.0, 40.0, "job-1")
    vote = OpenVote(ChoiceId("hall"), (OptionId("a"), OptionId("b")), 12.0, 22.0)
    broadcast = Broadcast(
        epoch=7, n=42,
        sends=(Send(ToPage(PAGE.key), Item("message", '{"type":"vote_ack"}')),
               Send(ToDevice(DeviceId("p-1")), Item("tally", "{}")),
               Send(EVERYONE, Item("message", '{"type":"state"}'))),
        film=(Prepare(("c/a", "c/b")), Next("c/a", 40.0), Next(None, 41.0), Cut("c/b", 42.5)),
        attached=(PAGE.key,), detached=(HOST.key,),
        summary=RoomSummary("KX7P2M", "The Door", "phones-play", "borda", Phase.PLAYING, 3,
                            {"phone": 3, "screen": 1, "host": 1}, playing, vote),
    )  # fmt: skip
    assert decode_broadcast(encode_broadcast(broadcast)) == broadcast


@pytest.mark.parametrize("text", ["", "{}", '{"k": "attach"}', '{"k": "said", "page": 1}', "[1]"])
def test_what_this_module_did_not_write_is_a_wire_error(text):
    with pytest.raises(WireError):
        decode_item(text)
    with pytest.raises(WireError):
        decode_broadcast(text)
