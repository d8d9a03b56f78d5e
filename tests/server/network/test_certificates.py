"""A certificate the user brings: every way it can be wrong is one line naming the file."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.network.addresses import Names
from server.network.certificates import check_pair, trust_warning
from server.network.errors import NetworkSetupError
from server.network.local_ca import ensure_local_certificate
from server.network.tls import prepare_tls
from tests.server.conftest import settings_for

NOW = dt.datetime.now(dt.UTC)
NAMES = Names(("localhost", "kino.test"), ("127.0.0.1",))


@pytest.fixture
def local(tmp_path):
    return ensure_local_certificate(tmp_path / "tls", NAMES, NOW)


def fails(cert, key, code, when=NOW):
    with pytest.raises(NetworkSetupError) as caught:
        check_pair(cert, key, when)
    error = caught.value
    assert error.code == code, error
    line = error.line()
    assert "\n" not in line and line.startswith(f"error {code}: KINOROOM_TLS_")
    if key.is_file():  # never a byte of the key itself
        body = [part for part in key.read_text(errors="replace").splitlines() if "---" not in part]
        assert not [part for part in body if part and part in line]
    return line


def test_a_good_pair_passes(local):
    checked = check_pair(local.cert, local.key, NOW)
    assert checked.expires_at == local.expires_at


def test_missing_unreadable_and_garbage_files_name_the_file(tmp_path, local):
    missing = tmp_path / "nope.pem"
    assert str(missing) in fails(missing, local.key, "tls-cert-missing")
    assert str(tmp_path) in fails(tmp_path, local.key, "tls-cert-missing")
    assert str(missing) in fails(local.cert, missing, "tls-key-missing")
    junk = tmp_path / "junk.pem"
    junk.write_text("hello\n")
    assert str(junk) in fails(junk, local.key, "tls-cert-invalid")
    assert str(junk) in fails(local.cert, junk, "tls-key-invalid")
    encrypted = tmp_path / "encrypted.key"
    key = ec.generate_private_key(ec.SECP256R1())
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    assert "encrypted" in fails(local.cert, encrypted, "tls-key-invalid")


def test_a_key_that_does_not_match(tmp_path, local):
    line = fails(local.cert, local.ca.with_name("ca.key"), "tls-key-mismatch")
    assert line.startswith("error tls-key-mismatch: KINOROOM_TLS_KEY: ")
    assert str(local.cert) in line


def test_an_expired_and_a_not_yet_valid_certificate(local):
    later = local.expires_at + dt.timedelta(seconds=1)
    assert "expired on" in fails(local.cert, local.key, "tls-expired", later)
    assert "valid only from" in fails(
        local.cert, local.key, "tls-not-yet-valid", NOW - dt.timedelta(days=2)
    )


def test_a_certificate_phones_will_not_trust_is_a_warning(local):
    checked = check_pair(local.cert, local.key, NOW)
    warning = trust_warning(checked, "kino.test", NOW)
    assert warning is not None and "\n" not in warning
    assert warning.startswith("warning tls-untrusted: KINOROOM_TLS_CERT: ")
    assert "Kinoroom local CA" in warning  # its issuer, which no phone trusts by default
    other = trust_warning(checked, "cinema.example.org", NOW)
    assert other is not None and "does not name cinema.example.org" in other


def test_only_one_of_the_two_files_is_an_error(tmp_path, local):
    settings = settings_for(tmp_path, tls_cert=local.cert)
    with pytest.raises(NetworkSetupError) as caught:
        prepare_tls(settings, NOW)
    assert caught.value.line().startswith("error tls-incomplete: KINOROOM_TLS_KEY: ")


def test_https_alone_makes_a_certificate_for_the_public_host(tmp_path):
    settings = settings_for(tmp_path, https=True, public_url="https://cinema.lan:8443")
    tls = prepare_tls(settings, NOW)
    assert tls is not None and tls.generated and tls.ca_fingerprint
    assert tls.cert.parent == settings.data_dir / "tls"
    again = prepare_tls(settings, NOW)
    assert again is not None and again.made == ()
    assert prepare_tls(settings_for(tmp_path), NOW) is None  # plain HTTP: nothing
