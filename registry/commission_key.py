"""The commission's signing key and certificate, from the PKCS#12 file named by
SIGNING_PKCS12_PATH / SIGNING_PKCS12_PASSWORD (`manage.py init_dev_pki` makes one in development).

One loader for both users of the key: the PAdES signatures on licences (`licensing.signing`) and
the signed audit checkpoints (`audit.signing`). The file is read once per process and again only
when it changes (key rotation). In production a PKCS#11 token would replace the file here.
"""

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings


class CommissionKeyUnavailable(Exception):
    """The key file is missing or cannot be opened; the message says which and what to do."""


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


@dataclass(frozen=True)
class CommissionKey:
    private_key: object
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # the other certificates in the file (issuing CAs)
    source: str  # the file it came from, for messages and logs

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def fingerprint(self) -> str:
        return certificate_fingerprint(self.certificate)


def load_commission_key() -> CommissionKey:
    path = Path(settings.SIGNING_PKCS12_PATH)
    try:
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise CommissionKeyUnavailable(
            f"signing key file {path} (SIGNING_PKCS12_PATH) does not exist; in development run `manage.py init_dev_pki`"
        ) from exc
    password = settings.SIGNING_PKCS12_PASSWORD
    if not password:
        raise CommissionKeyUnavailable("SIGNING_PKCS12_PASSWORD is not set")
    return _load(str(path), mtime_ns, password.encode("utf-8"))


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, password: bytes) -> CommissionKey:
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(Path(path).read_bytes(), password)
    except ValueError as exc:
        raise CommissionKeyUnavailable(
            f"could not load the signing key from {path}: wrong SIGNING_PKCS12_PASSWORD, or not a PKCS#12 file"
        ) from exc
    if key is None or certificate is None:
        raise CommissionKeyUnavailable(f"the PKCS#12 file {path} holds no private key and certificate")
    return CommissionKey(private_key=key, certificate=certificate, chain=tuple(chain or ()), source=path)
