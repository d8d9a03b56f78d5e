"""What ``kinoroom serve`` serves TLS with: the user's certificate, or the local CA's.

`prepare_tls` runs before anything listens. With ``KINOROOM_TLS_CERT`` and
``KINOROOM_TLS_KEY`` it checks the pair (`certificates.check_pair`: one-line errors) and
warns when phones will not trust it; with ``--https`` alone it makes or renews the local
CA's certificate for this machine's names, LAN addresses and the public URL's host.
`TlsMaterial.refresh` renews a local certificate while the server runs; the listener
reloads it into its live SSL context, so connections after that get the new one.

The certificate modules (and the cryptography library) are imported only when the
server speaks HTTPS: a plain-HTTP start does not pay for them (`bench/startup.py`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from server.network.addresses import machine_names, url_host
from server.network.errors import NetworkSetupError
from server.settings import Settings

if TYPE_CHECKING:
    from cryptography import x509

TLS_FOLDER = "tls"


@dataclass(frozen=True, slots=True)
class TlsMaterial:
    """The certificate and key the HTTPS listener loads, and what the pages may show.

    ``ca`` is the local CA's certificate (PEM) when Kinoroom made the server's
    certificate, None for the user's own; never a private key.
    """

    cert: Path
    key: Path
    expires_at: dt.datetime
    ca: Path | None = None
    ca_fingerprint: str | None = None
    folder: Path | None = None  # where the local CA lives (None: the user's certificate)
    hosts: tuple[str, ...] = ()  # extra names the local certificate must cover
    made: tuple[str, ...] = ()  # "ca", "server": what was made this time
    warnings: tuple[str, ...] = ()

    @property
    def generated(self) -> bool:
        return self.folder is not None

    def ca_pem(self) -> bytes | None:
        return self.ca.read_bytes() if self.ca is not None else None

    def refresh(self, now: dt.datetime) -> TlsMaterial:
        """The local certificate, renewed when due (``made`` says whether it was); the
        user's own certificate is theirs to renew, so it comes back unchanged."""
        if self.folder is None:
            return replace(self, made=())
        return _local(self.folder, self.hosts, now)


def prepare_tls(settings: Settings, now: dt.datetime) -> TlsMaterial | None:
    """The TLS material for ``settings``, or None when the server speaks plain HTTP.

    Raises:
        NetworkSetupError: ``tls-incomplete`` (one of the two files only), the codes of
            `certificates.check_pair`, ``tls-folder``.
    """
    if not settings.serves_https():
        return None
    from server.network.certificates import check_pair, trust_warning

    host = url_host(settings.public_url or "")
    if settings.tls_cert is not None or settings.tls_key is not None:
        if settings.tls_cert is None or settings.tls_key is None:
            missing = "TLS_CERT" if settings.tls_cert is None else "TLS_KEY"
            raise NetworkSetupError(
                "tls-incomplete", missing, "give both KINOROOM_TLS_CERT and KINOROOM_TLS_KEY"
            )
        checked = check_pair(settings.tls_cert, settings.tls_key, now)
        warning = trust_warning(checked, host or _first_dns(checked.chain[0]), now)
        return TlsMaterial(
            cert=checked.cert,
            key=checked.key,
            expires_at=checked.expires_at,
            warnings=(warning,) if warning else (),
        )
    hosts = tuple(h for h in (host, settings.host) if h)
    return _local(settings.data_dir / TLS_FOLDER, hosts, now)


def _local(folder: Path, hosts: tuple[str, ...], now: dt.datetime) -> TlsMaterial:
    from server.network.local_ca import ensure_local_certificate

    made = ensure_local_certificate(folder, machine_names(*hosts), now)
    return TlsMaterial(
        cert=made.cert,
        key=made.key,
        expires_at=made.expires_at,
        ca=made.ca,
        ca_fingerprint=made.ca_fingerprint,
        folder=folder,
        hosts=hosts,
        made=made.made,
    )


def _first_dns(cert: x509.Certificate) -> str:
    from cryptography import x509

    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ""
    names = alt.get_values_for_type(x509.DNSName)
    return names[0] if names else ""


__all__ = ["TlsMaterial", "prepare_tls"]
