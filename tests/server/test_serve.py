"""`kinoroom serve`, as `make run` starts it: a real process, its banner, its demo room."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

# Libraries `kinoroom serve` must not load until a camera needs them (the affect workers,
# their own processes, do): ~1 s of start-up between them (`bench/startup.py`).
HEAVY = ("mediapipe", "matplotlib", "onnxruntime", "cv2", "torch")
# Libraries the server imports once it runs, in a thread (aiortc, PyAV), or only when a
# setting asks for them (cryptography: HTTPS; Alembic: a database to migrate; ifaddr,
# which runs `ldconfig` as it loads: a wildcard address): a start-up does not wait for
# them (`bench/startup.py`).
AFTER_START = ("aiortc", "av", "cryptography", "alembic", "ifaddr")


def imported(log: str) -> set[str]:
    """The top-level packages ``-X importtime`` (PYTHONPROFILEIMPORTTIME) saw imported."""
    found = re.findall(r"^import time:\s+\d+ \|\s+\d+ \| *([\w.]+)$", log, re.MULTILINE)
    return {name.split(".")[0] for name in found}


def test_serve_prints_the_demo_room_and_serves_it(tmp_path: Path):
    env = {
        **os.environ,
        "KINOROOM_DATA_DIR": str(tmp_path),
        "KINOROOM_PORT": "0",
        "KINOROOM_ICE_HOSTS": "127.0.0.1",  # as the README writes it: a plain address
        "PYTHONPROFILEIMPORTTIME": "1",  # every import, to stderr
    }
    kinoroom = Path(sys.executable).with_name("kinoroom")
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        [str(kinoroom), "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = []
        for line in process.stdout:  # the banner ends with the QR code's last row
            banner.append(line)
            if line.startswith("Host page"):
                break
        text = "".join(banner)
        url = re.search(r"running at (http://127\.0\.0\.1:\d+)", text)
        code = re.search(r"Demo room ([A-Z2-9]{6}):", text)
        assert url and code, text
        info = httpx.get(f"{url[1]}/api/rooms/{code[1]}", timeout=10).json()
        assert info["title"] == "The Night Train to Lindholm"
        assert info["phase"] == "waiting"
        # The host link opens the host page on this room, its token in the fragment.
        link = re.search(r"Host page .*: (\S+)/host#room=([A-Z2-9]{6})&token=(\S+)", text)
        assert link and link[2] == code[1], text
        assert httpx.get(f"{link[1]}/host", timeout=10).status_code == 200
        roster = httpx.get(
            f"{url[1]}/api/rooms/{code[1]}/roster",
            headers={"Authorization": f"Bearer {link[3]}"},
            timeout=10,
        )
        assert roster.status_code == 200
        # The phone's landmarker model is served without loading MediaPipe.
        model = httpx.head(f"{url[1]}/models/face_landmarker.task", timeout=10)
        assert model.status_code == 200
        # Generation and camera analysis are lazy: the serving process has loaded neither
        # torch nor MediaPipe, matplotlib, OpenCV or onnxruntime (nor their libraries).
        maps = Path(f"/proc/{process.pid}/maps").read_text()
        assert "libtorch" not in maps
        assert [name for name in HEAVY if f"/{name}/" in maps] == []
        log.seek(0)
        loaded = imported(log.read())
        assert loaded & set(HEAVY) == set()
        assert "alembic" not in loaded  # a new database is created from the models
    finally:
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=20)
        assert process.stdout is not None
        process.stdout.close()
    log.seek(0)
    assert "Traceback" not in log.read()
    log.close()
    assert returncode == 0
    assert (tmp_path / "kinoroom.db").exists()
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0  # the signing key is private


def test_importing_the_server_leaves_media_tls_and_migrations_for_later():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import server.serve"],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("KINOROOM_")},
    )
    loaded = imported(done.stderr)
    assert "server" in loaded
    assert loaded & {*HEAVY, *AFTER_START} == set()
