"""Every log line says which room and which device it is about."""

from __future__ import annotations

import json
import logging

from server.logs import ContextFilter, JsonFormatter, device_var, room_var


def test_json_lines_carry_room_and_device_from_the_context():
    record = logging.LogRecord(
        "server.rooms.room", logging.INFO, __file__, 1, "decided %s", ("a",), None
    )
    room_token, device_token = room_var.set("ABCD23"), device_var.set("p-1")
    try:
        ContextFilter().filter(record)
    finally:
        room_var.reset(room_token)
        device_var.reset(device_token)
    line = json.loads(JsonFormatter().format(record))
    assert (line["event"], line["room"], line["device"], line["level"]) == (
        "decided a",
        "ABCD23",
        "p-1",
        "info",
    )


def test_lines_outside_a_room_say_so():
    record = logging.LogRecord("server", logging.WARNING, __file__, 1, "started", (), None)
    ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert (line["room"], line["device"]) == ("-", "-")
