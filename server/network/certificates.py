"""Certificates a user brings (``KINOROOM_TLS_CERT`` / ``KINOROOM_TLS_KEY``), checked
before anything listens, and the facts about a certificate the pages show.

A file that is missing, not PEM, expired or not yet valid, or a key that does not match
the certificate stops ``kinoroom serve`` with one line naming the file. A certificate
that phones will not trust (not issued by a CA this machine trusts, or not for the
public URL's host) is a one-line warning: it may be on purpose (mkcert's CA installed on
every phone), and the pages explain what a phone that does not trust it must do.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from server.network.addresses import Names, is_ip
from server.network.errors import NetworkSetupError


@dataclass(frozen=True, slots=True)
class CheckedCertificate:
    """A certificate and key that belong together and are valid now."""

    cert: Path
    key: Path
    chain: tuple[x509.Certificate, ...]
    expires_at: dt.datetime


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate, as phones' certificate screens show it (AB:CD:…)."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def spki_sha256(cert: x509.Certificate) -> str:
    """Base64 SHA-256 of the public key: the form Chromium's and HPKP's pins take."""
    return base64.b64encode(hashlib.sha256(public_der(cert.public_key())).digest()).decode()


def public_der(key: PublicKeyTypes) -> bytes:
    """A public key as DER SubjectPublicKeyInfo: equal bytes, equal keys."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def names_of(cert: x509.Certificate) -> Names:
    """The DNS names and IP addresses a certificate's subjectAltName covers."""
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return Names((), ())
    dns = tuple(alt.get_values_for_type(x509.DNSName))
    ips = tuple(str(a) for a in alt.get_values_for_type(x509.IPAddress))
    return Names(dns, ips)


def load_chain(path: Path, setting: str = "TLS_CERT") -> tuple[x509.Certificate, ...]:
    """The PEM certificates in ``path``, the server's own first.

    Raises:
        NetworkSetupError: ``tls-cert-missing``, ``tls-cert-invalid``.
    """
    data = _read(path, setting, "tls-cert-missing", "certificate")
    try:
        chain = tuple(x509.load_pem_x509_certificates(data))
    except ValueError:
        chain = ()
    if not chain:
        raise NetworkSetupError(
            "tls-cert-invalid",
            setting,
            f"{path}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)",
        )
    return chain


def load_key(path: Path, setting: str = "TLS_KEY") -> PrivateKeyTypes:
    """The unencrypted PEM private key in ``path``.

    Raises:
        NetworkSetupError: ``tls-key-missing``, ``tls-key-invalid``.
    """
    data = _read(path, setting, "tls-key-missing", "private key")
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:  # cryptography: "Password was not given but private key is encrypted"
        why = f"{path}: the key is encrypted; give it unencrypted (readable by this user only)"
    except (ValueError, UnsupportedAlgorithm):
        why = f"{path}: no PEM private key in it (-----BEGIN PRIVATE KEY-----)"
    raise NetworkSetupError("tls-key-invalid", setting, why)


def check_pair(cert: Path, key: Path, now: dt.datetime) -> CheckedCertificate:
    """The user's certificate and key, checked as a TLS server would use them.

    Raises:
        NetworkSetupError: a missing or unreadable file, ``tls-key-mismatch``,
            ``tls-expired``, ``tls-not-yet-valid``.
    """
    chain = load_chain(cert)
    private = load_key(key)
    leaf = chain[0]
    if public_der(private.public_key()) != public_der(leaf.public_key()):
        raise NetworkSetupError(
            "tls-key-mismatch", "TLS_KEY", f"{key} does not match the certificate in {cert}"
        )
    if leaf.not_valid_after_utc <= now:
        when = leaf.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")
        raise NetworkSetupError("tls-expired", "TLS_CERT", f"{cert} expired on {when}; renew it")
    if leaf.not_valid_before_utc > now:
        when = leaf.not_valid_before_utc.strftime("%Y-%m-%d %H:%M UTC")
        raise NetworkSetupError(
            "tls-not-yet-valid", "TLS_CERT", f"{cert} is valid only from {when} (check the clock)"
        )
    # ssl's own loader as the last word: what it refuses, the listener would refuse.
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise NetworkSetupError("tls-cert-invalid", "TLS_CERT", f"{cert}: {exc.reason}") from exc
    return CheckedCertificate(cert, key, chain, leaf.not_valid_after_utc)


def trust_warning(checked: CheckedCertificate, host: str, now: dt.datetime) -> str | None:
    """A one-line warning when phones will not trust ``checked`` for ``host``: it does
    not name ``host``, or it does not chain to a CA this machine trusts (its system store
    stands in for the phones'). None when it will be trusted, or there is no store."""
    head = f"warning tls-untrusted: KINOROOM_TLS_CERT: {checked.cert}:"
    leaf = checked.chain[0]
    names = names_of(leaf)
    if host and not _names_host(names, host):
        named = ", ".join((*names.dns, *names.ips)) or "no host at all"
        return f"{head} it does not name {host} (it names {named}); phones will refuse it"
    roots = _system_roots()
    if not roots or not host:
        return None
    subject: x509.DNSName | x509.IPAddress = (
        x509.IPAddress(ipaddress.ip_address(host)) if is_ip(host) else x509.DNSName(host)
    )
    verifier = PolicyBuilder().store(Store(roots)).time(now).build_server_verifier(subject)
    intermediates = [c for c in checked.chain[1:] if c.issuer != c.subject]
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError:
        issuer = leaf.issuer.rfc4514_string()
        return (
            f"{head} issued by {issuer}, which this machine does not trust; phones warn "
            "unless that CA is installed on them"
        )
    return None


def _names_host(names: Names, host: str) -> bool:
    if is_ip(host):
        return ipaddress.ip_address(host) in {ipaddress.ip_address(a) for a in names.ips}
    host = host.lower().rstrip(".")
    for name in (n.lower() for n in names.dns):
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


def _system_roots() -> list[x509.Certificate]:
    paths = ssl.get_default_verify_paths()
    for name in (paths.cafile, paths.openssl_cafile):
        if name and Path(name).is_file():
            try:
                with warnings.catch_warnings():  # old roots with negative serials
                    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                    return x509.load_pem_x509_certificates(Path(name).read_bytes())
            except (OSError, ValueError):
                continue
    return []


def _read(path: Path, setting: str, code: str, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        why = f"{path}: no such file (the {what})"
    except IsADirectoryError:
        why = f"{path}: a folder, not the {what} file"
    except OSError as exc:
        why = f"{path}: cannot read the {what}: {exc.strerror}"
    raise NetworkSetupError(code, setting, why)


__all__ = [
    "CheckedCertificate",
    "check_pair",
    "fingerprint",
    "load_chain",
    "load_key",
    "names_of",
    "spki_sha256",
    "trust_warning",
]
