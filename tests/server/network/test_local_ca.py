"""The local CA and server certificate: made once, kept safe, renewed before expiry."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from server.network.addresses import Names, machine_names, origin_of
from server.network.certificates import names_of
from server.network.local_ca import RENEW_BEFORE, SERVER_DAYS, ensure_local_certificate

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
NAMES = Names(("localhost", "kino.test"), ("127.0.0.1", "192.0.2.2"))


def verify(ca_file, cert_file, host, when):
    """Does a client that trusts only ``ca_file`` accept ``cert_file`` for ``host``?"""
    ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
    chain = x509.load_pem_x509_certificates(cert_file.read_bytes())
    verifier = (
        PolicyBuilder().store(Store([ca])).time(when).build_server_verifier(x509.DNSName(host))
    )
    verifier.verify(chain[0], chain[1:])


def test_made_once_with_keys_only_the_owner_can_read(tmp_path):
    folder = tmp_path / "tls"
    first = ensure_local_certificate(folder, NAMES, NOW)
    assert first.made == ("ca", "server")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE((folder / key).stat().st_mode) == 0o600
    assert b"PRIVATE KEY" not in first.ca.read_bytes() + first.cert.read_bytes()
    verify(first.ca, first.cert, "kino.test", NOW)
    with pytest.raises(VerificationError):
        verify(first.ca, first.cert, "elsewhere.test", NOW)

    again = ensure_local_certificate(folder, NAMES, NOW + dt.timedelta(days=1))
    assert again.made == ()
    assert again.ca_fingerprint == first.ca_fingerprint
    assert again.cert.read_bytes() == first.cert.read_bytes()


def test_renewed_before_it_expires_with_the_same_ca(tmp_path):
    folder = tmp_path / "tls"
    first = ensure_local_certificate(folder, NAMES, NOW)
    assert first.expires_at - NOW == dt.timedelta(days=SERVER_DAYS)
    assert first.expires_at - NOW <= dt.timedelta(days=398)  # Apple's limit
    due = first.expires_at - RENEW_BEFORE + dt.timedelta(hours=1)
    renewed = ensure_local_certificate(folder, NAMES, due)
    assert renewed.made == ("server",)
    assert renewed.ca_fingerprint == first.ca_fingerprint  # phones need no new step
    assert renewed.expires_at > first.expires_at
    verify(renewed.ca, renewed.cert, "kino.test", due)


def test_a_new_name_or_address_gets_a_new_certificate(tmp_path):
    folder = tmp_path / "tls"
    first = ensure_local_certificate(folder, NAMES, NOW)
    wider = Names((*NAMES.dns, "cinema.lan"), (*NAMES.ips, "10.1.2.3"))
    second = ensure_local_certificate(folder, wider, NOW)
    assert second.made == ("server",)
    assert second.ca_fingerprint == first.ca_fingerprint
    assert names_of(x509.load_pem_x509_certificate(second.cert.read_bytes())).covers(wider)


def test_a_broken_or_foreign_key_is_replaced(tmp_path):
    folder = tmp_path / "tls"
    first = ensure_local_certificate(folder, NAMES, NOW)
    (folder / "server.key").write_text("garbage")
    assert ensure_local_certificate(folder, NAMES, NOW).made == ("server",)
    (folder / "ca.key").write_bytes((folder / "server.key").read_bytes())  # not the CA's
    remade = ensure_local_certificate(folder, NAMES, NOW)
    assert remade.made == ("ca", "server")
    assert remade.ca_fingerprint != first.ca_fingerprint


def test_a_ca_near_its_end_is_replaced(tmp_path):
    folder = tmp_path / "tls"
    first = ensure_local_certificate(folder, NAMES, NOW)
    late = NOW + dt.timedelta(days=3650 - SERVER_DAYS)
    assert ensure_local_certificate(folder, NAMES, late).made == ("ca", "server")
    assert ensure_local_certificate(folder, NAMES, late).ca_fingerprint != first.ca_fingerprint


def test_machine_names_cover_this_machine_and_the_public_host():
    names = machine_names("kino.test", "0.0.0.0", "192.0.2.77")
    assert {"localhost", "kino.test"} <= set(names.dns)
    assert {"127.0.0.1", "192.0.2.77"} <= set(names.ips)
    assert "0.0.0.0" not in names.ips


def test_origins_compare_as_browsers_send_them():
    assert origin_of("https://Kino.Example.org:443/") == "https://kino.example.org"
    assert origin_of("https://kino.test:8443/j/X") == "https://kino.test:8443"
    assert origin_of("http://[::1]:80") == "http://[::1]"
