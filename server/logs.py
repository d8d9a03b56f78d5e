"""Structured logs: one line per event, with the room code and the device on every line.

The room and device live in context variables that the socket handler and the Room
actor set; a filter copies them onto each record, so a line logged deep inside a call
still says which room and which phone it is about (websockets' logging pattern).
``json`` format writes one JSON object per line for log collectors.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys

room_var: contextvars.ContextVar[str] = contextvars.ContextVar("room", default="-")
device_var: contextvars.ContextVar[str] = contextvars.ContextVar("device", default="-")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.room = room_var.get()
        record.device = device_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "room": getattr(record, "room", "-"),
            "device": getattr(record, "device", "-"),
        }
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s room=%(room)s device=%(device)s %(message)s"
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


__all__ = ["ContextFilter", "JsonFormatter", "configure", "device_var", "room_var"]
