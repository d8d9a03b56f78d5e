"""`kinoroom serve` with a network setting that cannot work: one line, a stable code, the
setting and the file, exit 1 (2 for a value that can never work), no traceback; a
certificate phones will not trust: a one-line warning, and the server runs over HTTPS."""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.cli import main
from server.network.addresses import Names
from server.network.local_ca import ensure_local_certificate

KINOROOM = Path(sys.executable).with_name("kinoroom")
NOW = dt.datetime.now(dt.UTC)


def serve(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`kinoroom serve` as a process: what a person sees on the terminal."""
    env = {
        **os.environ,
        "KINOROOM_DATA_DIR": str(tmp_path / "data"),
        "KINOROOM_PORT": "0",
        "KINOROOM_DEMO_ROOM": "false",
        **{f"KINOROOM_{k.upper()}": v for k, v in settings.items()},
    }
    return subprocess.run(
        [str(KINOROOM), "serve", *args], env=env, capture_output=True, text=True, timeout=60
    )


def one_line(
    result: subprocess.CompletedProcess[str], code: str, setting: str, status: int = 1
) -> str:
    assert result.returncode == status, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error {code}: KINOROOM_{setting}: "), lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    return lines[0]


def in_process(monkeypatch, capsys, tmp_path, *args: str, **settings: str):
    """The same command in this process (quicker): the checks run before anything listens."""
    monkeypatch.setenv("KINOROOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KINOROOM_PORT", "0")
    for key, value in settings.items():
        monkeypatch.setenv(f"KINOROOM_{key.upper()}", value)
    code = main(["serve", *args])
    out, err = capsys.readouterr()
    for key in settings:
        monkeypatch.delenv(f"KINOROOM_{key.upper()}")
    return subprocess.CompletedProcess(["kinoroom", "serve"], code, out, err)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    names = Names(("localhost", "kino.test"), ("127.0.0.1",))
    good = ensure_local_certificate(folder / "good", names, NOW)
    old = ensure_local_certificate(folder / "old", names, NOW - dt.timedelta(days=400))
    return good, old


def test_a_key_that_does_not_match_stops_the_process_with_one_line(tmp_path, made):
    good, _ = made
    wrong = good.ca.with_name("ca.key")
    line = one_line(
        serve(tmp_path, "--https", tls_cert=str(good.cert), tls_key=str(wrong)),
        "tls-key-mismatch",
        "TLS_KEY",
    )
    assert str(wrong) in line and str(good.cert) in line


def test_certificate_problems_are_one_line_naming_the_file(monkeypatch, capsys, tmp_path, made):
    good, old = made
    run = functools.partial(in_process, monkeypatch, capsys, tmp_path)
    missing = tmp_path / "missing.pem"
    result = run("--https", tls_cert=str(missing), tls_key=str(good.key))
    assert str(missing) in one_line(result, "tls-cert-missing", "TLS_CERT")
    result = run(tls_cert=str(old.cert), tls_key=str(old.key))
    line = one_line(result, "tls-expired", "TLS_CERT")
    assert str(old.cert) in line and "expired on" in line
    one_line(run(tls_cert=str(good.cert)), "tls-incomplete", "TLS_KEY")
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)  # the settings check may have made it (a probe file)
    (data / "tls").write_text("a file where the CA's folder goes")
    one_line(run("--https"), "tls-folder", "DATA_DIR")


def test_a_malformed_stun_url_stops_the_process_with_one_line(tmp_path):
    result = serve(tmp_path, stun_urls='["stun//nowhere"]')
    line = one_line(result, "bad-ice-url", "STUN_URLS", status=2)
    assert "stun//nowhere" in line


def test_ice_and_proxy_settings_are_checked_at_start(monkeypatch, capsys, tmp_path):
    run = functools.partial(in_process, monkeypatch, capsys, tmp_path)
    one_line(run(stun_urls='["turn:relay.lan:3478"]'), "bad-ice-url", "STUN_URLS", 2)
    one_line(run(turn_urls='["turns:relay.lan?transport=udp"]'), "bad-ice-url", "TURN_URLS", 2)
    one_line(run(turn_urls='["turn:relay.lan:3478"]'), "turn-credentials", "TURN_USERNAME", 2)
    one_line(run(ice_hosts='["my-laptop"]'), "bad-ice-host", "ICE_HOSTS", 2)
    result = run(trusted_proxies="127.0.0.1, proxy.lan")
    assert "proxy.lan" in one_line(result, "bad-proxy-address", "TRUSTED_PROXIES", 2)
    one_line(run(public_url="kino.test:8000"), "bad-public-url", "PUBLIC_URL", 2)


def test_an_untrusted_certificate_warns_once_and_serves_https(tmp_path, made):
    good, _ = made
    env = {
        **os.environ,
        "KINOROOM_DATA_DIR": str(tmp_path / "data"),
        "KINOROOM_PORT": "0",
        "KINOROOM_DEMO_ROOM": "false",
        "KINOROOM_TLS_CERT": str(good.cert),
        "KINOROOM_TLS_KEY": str(good.key),
    }
    process = subprocess.Popen(
        [str(KINOROOM), "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        first = process.stderr.readline()  # before uvicorn's first log line
        assert first.startswith("warning tls-untrusted: KINOROOM_TLS_CERT: "), first
        assert str(good.cert) in first and "Kinoroom local CA" in first
        banner = process.stdout.readline()
        url = re.search(r"running at (https://127\.0\.0\.1:\d+)", banner)
        assert url, banner
        trusting = ssl.create_default_context(cafile=str(good.ca))
        assert httpx.get(f"{url[1]}/healthz", verify=trusting, timeout=10).status_code == 200
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{url[1]}/healthz", timeout=10)  # the system's roots: untrusted
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
