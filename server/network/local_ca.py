"""A local certificate authority and a server certificate for this machine.

`kinoroom serve --https` without a certificate of its own makes, once, a CA (ten years)
and a server certificate it signs for this machine's names and LAN addresses (397 days:
Apple's limit for a TLS server certificate is 398). A phone trusts the server by
installing the CA's certificate once (the README and the host page say how); the server
certificate is then renewed silently, with no new step on the phones: 30 days before it
expires, when a name or address it must cover is new, or when the CA changed.

Files, under ``DATA_DIR/tls/`` (a 0700 folder): ``ca.key`` and ``server.key`` (0600,
written 0600 from their first byte), ``ca.crt``, ``server.crt`` (the server certificate
followed by the CA's, the chain a TLS client is sent). ECDSA P-256 keys, SHA-256
signatures: what every phone browser accepts. Time is an argument, so tests can make
expired certificates and renewals without waiting.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from server.network.addresses import Names
from server.network.certificates import fingerprint, names_of, public_der
from server.network.errors import NetworkSetupError

CA_DAYS = 3650
SERVER_DAYS = 397
RENEW_BEFORE = dt.timedelta(days=30)
BACKDATE = dt.timedelta(hours=1)  # a phone whose clock is a little behind still accepts it

CA_KEY, CA_CERT, SERVER_KEY, SERVER_CERT = "ca.key", "ca.crt", "server.key", "server.crt"


@dataclass(frozen=True, slots=True)
class LocalCertificate:
    """The files `ensure_local_certificate` keeps, and what it made this time.

    ``made`` holds ``"ca"`` when the CA is new (phones must install it again) and
    ``"server"`` when the server certificate is.
    """

    cert: Path
    key: Path
    ca: Path
    ca_fingerprint: str
    expires_at: dt.datetime
    names: Names
    made: tuple[str, ...]


def ensure_local_certificate(folder: Path, names: Names, now: dt.datetime) -> LocalCertificate:
    """The local CA and a server certificate valid at ``now`` for ``names``, made or
    renewed as needed.

    Raises:
        NetworkSetupError: ``tls-folder`` when the folder cannot be made or written.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        made: list[str] = []
        ca = _load_ca(folder, now)
        if ca is None:
            ca = _make_ca(now)
            _write_key(folder / CA_KEY, ca[0])
            _write(folder / CA_CERT, ca[1].public_bytes(serialization.Encoding.PEM))
            made.append("ca")
        ca_key, ca_cert = ca
        server = _load_server(folder, ca_cert, names, now)
        if server is None or made:
            key = ec.generate_private_key(ec.SECP256R1())
            server = _sign_server(key, ca_key, ca_cert, names, now)
            _write_key(folder / SERVER_KEY, key)
            chain = server.public_bytes(serialization.Encoding.PEM)
            _write(folder / SERVER_CERT, chain + ca_cert.public_bytes(serialization.Encoding.PEM))
            made.append("server")
    except OSError as exc:
        raise NetworkSetupError(
            "tls-folder", "DATA_DIR", f"cannot keep the local CA in {folder}: {exc.strerror}"
        ) from exc
    return LocalCertificate(
        cert=folder / SERVER_CERT,
        key=folder / SERVER_KEY,
        ca=folder / CA_CERT,
        ca_fingerprint=fingerprint(ca_cert),
        expires_at=server.not_valid_after_utc,
        names=names_of(server),
        made=tuple(made),
    )


def _load_ca(
    folder: Path, now: dt.datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None:
    """The CA on disk, if whole and good for at least one more server certificate."""
    try:
        key = serialization.load_pem_private_key((folder / CA_KEY).read_bytes(), None)
        cert = x509.load_pem_x509_certificate((folder / CA_CERT).read_bytes())
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return None
    if public_der(key.public_key()) != public_der(cert.public_key()):
        return None
    if cert.not_valid_after_utc - now < dt.timedelta(days=SERVER_DAYS) + RENEW_BEFORE:
        return None  # a new server certificate would outlive it
    return key, cert


def _load_server(
    folder: Path, ca: x509.Certificate, names: Names, now: dt.datetime
) -> x509.Certificate | None:
    """The server certificate on disk, if signed by ``ca``, covering ``names`` and not
    due for renewal; its key must be there too."""
    try:
        cert = x509.load_pem_x509_certificate((folder / SERVER_CERT).read_bytes())
        key = serialization.load_pem_private_key((folder / SERVER_KEY).read_bytes(), None)
    except (OSError, ValueError, TypeError):
        return None
    if public_der(key.public_key()) != public_der(cert.public_key()):
        return None
    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return None
    if cert.not_valid_before_utc > now or cert.not_valid_after_utc - now < RENEW_BEFORE:
        return None
    return cert if names_of(cert).covers(names) else None


def _make_ca(now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kinoroom"),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"Kinoroom local CA ({socket.gethostname()[:30]})"
            ),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(_serial())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _sign_server(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca: x509.Certificate,
    names: Names,
    now: dt.datetime,
) -> x509.Certificate:
    alt: list[x509.GeneralName] = [x509.DNSName(n) for n in names.dns]
    alt += [x509.IPAddress(ipaddress.ip_address(a)) for a in names.ips]
    first = names.dns[0] if names.dns else names.ips[0]
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, first[:64])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _serial() -> int:
    return secrets.randbits(63) + 1  # positive, unpredictable, within RFC 5280's 20 octets


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write(path, pem, mode=0o600)


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write through a temp file opened with ``mode`` and rename: a key is never
    readable by others, not even for a moment, and a crash leaves the old file whole."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)  # the umask may have taken bits from a 0644 file
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


__all__ = ["LocalCertificate", "ensure_local_certificate"]
