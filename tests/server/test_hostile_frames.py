"""Hostile WebSocket frames against `kinoroom serve`: each gets its close code, the log
gets at most one line per address, and never a traceback.

The server is the real ``kinoroom serve`` process (its uvicorn settings and transport);
frames are made with websockets' sans-I/O client, which sends what it is told to: a
70,000-byte first frame, a text frame that is not UTF-8 (before and after ``hello``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from mobile_bridge.protocol import PROTOCOL_VERSION, CloseCode

SCALE = float(os.environ.get("KINOROOM_TEST_TIMEOUT_SCALE", "1"))
TIMEOUT = 10.0 * SCALE


class Serve:
    def __init__(self, process: subprocess.Popen[str], log: Path, url: str, code: str) -> None:
        self.process, self.log, self.url, self.code = process, log, url, code

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINOROOM_")}
    env |= {"KINOROOM_DATA_DIR": str(tmp_path / "data"), "KINOROOM_PORT": "0"}
    log = tmp_path / "serve.log"
    kinoroom = Path(sys.executable).with_name("kinoroom")
    with log.open("w") as err:
        process = subprocess.Popen(
            [str(kinoroom), "serve"], env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )
    try:
        assert process.stdout is not None
        banner = "".join(process.stdout.readline() for _ in range(2))
        found = re.search(r"running at (http://\S+) .*\nDemo room (\w+):", banner)
        assert found, banner + log.read_text()
        yield Serve(process, log, found[1], found[2])
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20 * SCALE)
        assert process.stdout is not None
        process.stdout.close()


async def exchange(
    url: str, code: str, frames: list[Frame], then: Frame | None = None
) -> tuple[int | None, list[str]]:
    """Open a socket, send ``frames`` (and ``then`` once the server has answered); the
    server's close code and the texts it sent."""
    ws = parse_uri(f"{url.replace('http', 'ws')}/ws/rooms/{code}")
    client = ClientProtocol(ws, max_size=None)
    reader, writer = await asyncio.open_connection(ws.host, ws.port)
    texts: list[str] = []
    try:
        client.send_request(client.connect())
        writer.write(b"".join(client.data_to_send()))
        async with asyncio.timeout(TIMEOUT):
            while client.handshake_exc is None and not client.events_received():
                client.receive_data(await reader.read(65536))
            for frame in frames:
                client.send_frame(frame)
            writer.write(b"".join(client.data_to_send()))
            while client.close_rcvd is None:
                data = await reader.read(65536)
                if not data:
                    break
                client.receive_data(data)
                for event in client.events_received():
                    if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                        texts.append(event.data.decode())
                if texts and then is not None:
                    client.send_frame(then)
                    writer.write(b"".join(client.data_to_send()))
                    then = None
    finally:
        writer.close()
    return (client.close_rcvd.code if client.close_rcvd else None), texts


def text(data: bytes) -> Frame:
    return Frame(Opcode.TEXT, data)


@pytest.mark.asyncio
async def test_hostile_frames_get_their_close_codes_and_one_log_line(serve):
    # A first frame over the transport's 64 KiB limit, and a first text frame that is not
    # UTF-8: the transport refuses both before the page handler reads them.
    close, _ = await exchange(serve.url, serve.code, [text(b"x" * 70_000)])
    assert close == CloseCode.TOO_LARGE
    for _ in range(20):  # a flood from one address
        close, _ = await exchange(serve.url, serve.code, [text(b'{"type": "hel\xff\xfe"}')])
        assert close == CloseCode.INVALID_DATA

    # After a good hello too: the page is welcomed, then its broken frame closes it.
    async with httpx.AsyncClient(base_url=serve.url, trust_env=False) as http:
        joined = await http.post(f"/api/rooms/{serve.code}/join", json={"nickname": "Eve"})
    token = joined.json()["token"]
    hello = json.dumps(
        {"type": "hello", "protocol": PROTOCOL_VERSION, "role": "phone", "token": token}
    )
    close, texts = await exchange(serve.url, serve.code, [text(hello.encode())], text(b"\xc3("))
    assert close == CloseCode.INVALID_DATA
    assert json.loads(texts[0])["type"] == "welcome"

    # The server still serves, and its log holds one line for all of it.
    async with httpx.AsyncClient(base_url=serve.url, trust_env=False) as http:
        assert (await http.get("/healthz")).status_code == 200
    log = serve.log_text()
    assert "Traceback" not in log
    assert "Exception in ASGI application" not in log
    hostile = [line for line in log.splitlines() if "hostile frame" in line]
    assert len(hostile) == 1, hostile
    assert "hostile frame from 127.0.0.1: closed 1009" in hostile[0]
    assert len(hostile[0]) < 400
