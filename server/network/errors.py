"""What stops ``kinoroom serve`` from opening a network it was asked for.

    NetworkSetupError     a TLS, proxy or ICE setting that cannot work: code, setting, why
                          (codes: tls-cert-missing, tls-cert-invalid, tls-key-missing,
                          tls-key-invalid, tls-key-mismatch, tls-expired, tls-not-yet-valid,
                          tls-incomplete, tls-folder, bad-ice-url, bad-ice-host,
                          bad-proxy-address, bad-public-url)

The CLI prints ``error CODE: KINOROOM_SETTING: why``: one line, never a traceback, never
a private key. It exits 2 for a value that can never work (the ICE, proxy and public URL
codes), 1 for one the machine refuses now (the files: certificates, keys, folders).
"""

from __future__ import annotations


class NetworkSetupError(Exception):
    """A network setting that cannot work.

    Attributes:
        code: stable kebab-case code (listed in the README).
        setting: the ``KINOROOM_*`` variable to fix, without the prefix (``TLS_CERT``).
        why: what is wrong, naming the file or value.
        exit_status: 2 for a value that can never work, 1 for a file or folder.
    """

    def __init__(self, code: str, setting: str, why: str, *, exit_status: int = 1) -> None:
        self.code, self.setting, self.why = code, setting, why
        self.exit_status = exit_status
        super().__init__(f"{code}: KINOROOM_{setting}: {why}")

    def line(self) -> str:
        """The one line the CLI prints."""
        return f"error {self.code}: KINOROOM_{self.setting}: {self.why}"


__all__ = ["NetworkSetupError"]
