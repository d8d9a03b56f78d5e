"""Every screening command has its row in both tables: what is persisted, who is told."""

from __future__ import annotations

import typing

from narrative.events import Command
from server.rooms.effects import MESSAGES, RECORDS


def test_both_tables_have_exactly_one_row_per_command_type():
    commands = set(typing.get_args(Command))
    assert set(RECORDS) == commands
    assert set(MESSAGES) == commands
