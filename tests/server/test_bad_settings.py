"""A bad setting or command-line input ends `kinoroom` with one line naming what to fix.

Every case runs the real console script in a subprocess, as a person would: the exit
status, exactly one line on stderr (``error CODE: KINOROOM_X: why``), no traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.preflight import SettingError, load_settings

KINOROOM = str(Path(sys.executable).with_name("kinoroom"))
SCALE = float(os.environ.get("KINOROOM_TEST_TIMEOUT_SCALE", "1"))
POSTGRES = os.environ.get(
    "KINOROOM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def closed_port() -> int:
    """A port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def kinoroom(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KINOROOM_")}
    clean |= {"KINOROOM_DATA_DIR": str(tmp_path / "data"), "KINOROOM_PORT": "0"} | env
    return subprocess.run(
        [KINOROOM, *argv], env=clean, capture_output=True, text=True, timeout=60 * SCALE
    )


def assert_one_line(done: subprocess.CompletedProcess[str], status: int, start: str) -> str:
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode == status, output
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(start), done.stderr
    return done.stderr


# (environment, expected start of the line, exit status)
SERVE_CASES = [
    ({"KINOROOM_PORT": "abc"}, "error bad-setting: KINOROOM_PORT: ", 2),
    ({"KINOROOM_PORT": "70000"}, "error bad-setting: KINOROOM_PORT: ", 2),
    ({"KINOROOM_TICK_INTERVAL_S": "-1"}, "error bad-setting: KINOROOM_TICK_INTERVAL_S: ", 2),
    ({"KINOROOM_DEMO_ROOM": "maybe"}, "error bad-setting: KINOROOM_DEMO_ROOM: ", 2),
    ({"KINOROOM_GEN_DEVICE": "tpu"}, "error bad-setting: KINOROOM_GEN_DEVICE: ", 2),
    (
        {"KINOROOM_ICE_HOSTS": "[127.0.0.1"},
        "error bad-setting: KINOROOM_ICE_HOSTS: not a JSON list",
        2,
    ),
    ({"KINOROOM_ICE_HOSTS": "media.example.org"}, "error bad-ice-host: KINOROOM_ICE_HOSTS: ", 2),
    ({"KINOROOM_LOG_LEVEL": "LOUD"}, "error bad-setting: KINOROOM_LOG_LEVEL: ", 2),
    ({"KINOROOM_DEMO_POLICY": "loudest"}, "error unknown-policy: KINOROOM_DEMO_POLICY: ", 2),
    ({"KINOROOM_PUBLIC_URL": "phone.local:8000"}, "error bad-public-url: KINOROOM_PUBLIC_URL: ", 2),
    ({"KINOROOM_ALLOWED_ORIGINS": "example.org"}, "error bad-url: KINOROOM_ALLOWED_ORIGINS: ", 2),
    ({"KINOROOM_STUN_URLS": "stun.example.org"}, "error bad-ice-url: KINOROOM_STUN_URLS: ", 2),
    ({"KINOROOM_DATABASE_URL": "mysql://db/x"}, "error bad-url: KINOROOM_DATABASE_URL: ", 2),
    ({"KINOROOM_DATABASE_URL": "postgresql://db/x"}, "error bad-url: KINOROOM_DATABASE_URL: ", 2),
    ({"KINOROOM_DATABASE_URL": "not a url"}, "error bad-url: KINOROOM_DATABASE_URL: ", 2),
    ({"KINOROOM_REDIS_URL": "http://127.0.0.1"}, "error bad-url: KINOROOM_REDIS_URL: ", 2),
    ({"KINOROOM_FER_MODEL": "/no/such/fer.onnx"}, "error model-missing: KINOROOM_FER_MODEL: ", 1),
    ({"KINOROOM_HOST": "192.0.2.1"}, "error bad-host: KINOROOM_HOST: ", 1),  # TEST-NET-1
]


@pytest.mark.parametrize(("env", "start", "status"), SERVE_CASES, ids=lambda c: str(c)[:40])
def test_a_bad_setting_is_one_line_naming_it(tmp_path, env, start, status):
    assert_one_line(kinoroom(tmp_path, "serve", **env), status, start)


def test_an_unwritable_data_folder_is_named(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # root may write anywhere, but not under a file
    done = kinoroom(tmp_path, "serve", KINOROOM_DATA_DIR=str(blocker / "data"))
    line = assert_one_line(done, 1, "error folder-unwritable: KINOROOM_DATA_DIR: cannot write to")
    assert str(blocker / "data") in line


def test_a_port_in_use_is_named(tmp_path, listening):
    done = kinoroom(tmp_path, "serve", KINOROOM_PORT=str(listening))
    line = assert_one_line(done, 1, "error port-in-use: KINOROOM_PORT: ")
    assert f"127.0.0.1:{listening} is already in use" in line


def test_an_unreachable_redis_is_named(tmp_path):
    url = f"redis://127.0.0.1:{closed_port()}"
    done = kinoroom(tmp_path, "serve", KINOROOM_REDIS_URL=url)
    assert_one_line(done, 1, f"error redis-unreachable: KINOROOM_REDIS_URL: no answer from {url}")


def test_an_unreachable_database_is_named(tmp_path):
    url = f"postgresql+asyncpg://kinoroom:secret@127.0.0.1:{closed_port()}/kinoroom"
    done = kinoroom(tmp_path, "serve", KINOROOM_DATABASE_URL=url)
    line = assert_one_line(done, 1, "error database-unreachable: KINOROOM_DATABASE_URL: ")
    assert "secret" not in line  # the password stays out of the message


def test_a_missing_postgresql_database_is_named(tmp_path):
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES).set(database="kinoroom_no_such_database")
    done = kinoroom(tmp_path, "serve", KINOROOM_DATABASE_URL=url.render_as_string(False))
    line = assert_one_line(done, 1, "error database-unreachable: KINOROOM_DATABASE_URL: ")
    assert "kinoroom_no_such_database" in line


@pytest.mark.parametrize(
    ("argv", "start", "status"),
    [
        (["serve", "--port", "x"], "error bad-argument: kinoroom serve: argument --port:", 2),
        (["serve", "--port", "70000"], "error bad-setting: --port: ", 2),
        (["nonsense"], "error bad-argument: kinoroom: argument command: invalid choice", 2),
        (
            ["demo", "--time-scale", "-1"],
            "error bad-argument: kinoroom demo: argument --time-scale",
            2,
        ),
        (
            ["loadtest", "--url", "server", "--phones", "2"],
            "error bad-argument: kinoroom loadtest:",
            2,
        ),
        (["story", "graph", "missing.yaml"], "error io: cannot read missing.yaml", 1),
        (
            ["tally", "--policy", "plurality", "missing.json"],
            "error io: cannot read missing.json",
            1,
        ),
        (
            ["film", "prune", "--media", "missing"],
            "error media-not-found: --media: no such folder",
            1,
        ),
        (
            ["worker", "--claim-idle", "0"],
            "error bad-argument: kinoroom worker: argument --claim-idle",
            2,
        ),
    ],
    ids=lambda c: " ".join(c) if isinstance(c, list) else str(c)[:20],
)
def test_a_bad_command_line_is_one_line(tmp_path, argv, start, status):
    done = subprocess.run(
        [KINOROOM, *argv], cwd=tmp_path, capture_output=True, text=True, timeout=60 * SCALE
    )
    assert_one_line(done, status, start)


def test_folders_the_commands_write_to_are_checked_first(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for argv, name in (
        (["film", "demo", "--media", str(blocker / "m")], "--media"),
        (["demo", "--data-dir", str(blocker / "d")], "--data-dir"),
        (
            [
                "loadtest",
                "--url",
                "http://127.0.0.1:1",
                "--phones",
                "1",
                "--out",
                str(blocker / "x.json"),
            ],
            "--out",
        ),
    ):
        done = kinoroom(tmp_path, *argv)
        assert_one_line(done, 1, f"error folder-unwritable: {name}: cannot write to {blocker}")


def test_a_load_test_against_nobody_says_so(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    done = kinoroom(
        tmp_path, "loadtest", "--url", url, "--phones", "1", "--out", str(tmp_path / "x.json")
    )
    assert_one_line(done, 1, f"error server-unreachable: --url: no Kinoroom answers at {url}")


def test_a_worker_with_a_bad_setting_says_which(tmp_path):
    done = kinoroom(
        tmp_path, "worker", KINOROOM_REDIS_URL="redis://127.0.0.1:1", KINOROOM_GEN_WORKERS="x"
    )
    assert_one_line(done, 2, "error bad-setting: KINOROOM_GEN_WORKERS: ")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("127.0.0.1", ["127.0.0.1"]),
        ("127.0.0.1, 10.0.0.5,", ["127.0.0.1", "10.0.0.5"]),
        ('["127.0.0.1", "::1"]', ["127.0.0.1", "::1"]),
        ("", []),
    ],
)
def test_list_settings_take_commas_or_json(monkeypatch, written, read):
    monkeypatch.setenv("KINOROOM_ICE_HOSTS", written)
    monkeypatch.setenv("KINOROOM_ALLOWED_ORIGINS", written and f"http://{read[0]}:8000")
    settings = load_settings()
    assert settings.ice_hosts == read
    assert settings.allowed_origins == ([f"http://{read[0]}:8000"] if read else [])


def test_a_list_of_the_wrong_shape_is_refused(monkeypatch):
    monkeypatch.setenv("KINOROOM_STUN_URLS", '["stun:a.example.org", 3478]')
    with pytest.raises(SettingError) as info:
        load_settings()
    assert (info.value.code, info.value.variable) == ("bad-setting", "KINOROOM_STUN_URLS")
