"""The throw-away development PKI: a root CA, the commission's signing certificate and a TSA.

Development and tests sign licences with keys made here, never with a key committed to the
repository. Production points the settings (SIGNING_PKCS12_PATH, SIGNING_TRUST_ROOTS, TSA_URL)
at material provisioned elsewhere; nothing in this module runs there.

Layout of the directory (settings.PKI_DIR, git-ignored under var/):
    root-ca.pem      root certificate: what validators trust (SIGNING_TRUST_ROOTS)
    signing.p12      commission signing key + certificate + chain, password-protected
    signing.pem      the signing certificate alone, for people who want to look at it
    tsa.pem/tsa.key  the local time-stamping authority used when TSA_URL is empty
The root key is not kept: nothing needs to issue from this throw-away root later, and a key
that does not exist cannot leak. Recreating means recreating everything (`--force`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ISSUER_NAME = "北京市规划和自然资源委员会"
ISSUER_USCC = "11110000MB0000001Y"

ROOT_VALIDITY = dt.timedelta(days=3650)
SIGNING_VALIDITY = dt.timedelta(days=3 * 365)
TSA_VALIDITY = dt.timedelta(days=5 * 365)
# A PKI about to expire is replaced rather than kept, so a long demo does not start failing.
RENEW_BEFORE = dt.timedelta(days=30)
# Tolerate clocks that are slightly behind the one that issued the certificates.
BACKDATE = dt.timedelta(hours=1)


class DevPkiError(Exception):
    """The development PKI cannot be created or read."""


@dataclass(frozen=True)
class DevPki:
    directory: Path

    @property
    def root_cert_path(self) -> Path:
        return self.directory / "root-ca.pem"

    @property
    def signing_pkcs12_path(self) -> Path:
        return self.directory / "signing.p12"

    @property
    def signing_cert_path(self) -> Path:
        return self.directory / "signing.pem"

    @property
    def tsa_cert_path(self) -> Path:
        return self.directory / "tsa.pem"

    @property
    def tsa_key_path(self) -> Path:
        return self.directory / "tsa.key"


def default_pki() -> DevPki:
    from django.conf import settings

    return DevPki(Path(settings.PKI_DIR))


def ensure_dev_pki(pki: DevPki | None = None, *, password: str | None = None, force: bool = False) -> bool:
    """Create the development PKI unless a valid one is already there. Returns True if created.

    Safe to call from several processes at once (a file lock serialises them), so a web process
    and a worker starting together end up with one PKI.
    """
    from django.conf import settings

    pki = pki or default_pki()
    password = settings.SIGNING_PKCS12_PASSWORD if password is None else password
    if not password:
        raise DevPkiError("SIGNING_PKCS12_PASSWORD is empty: the signing key file needs a password")
    pki.directory.mkdir(parents=True, exist_ok=True)
    with _locked(pki.directory / ".lock"):
        if not force and not dev_pki_problems(pki, password=password):
            return False
        create_dev_pki(pki, password=password)
        return True


def dev_pki_problems(pki: DevPki, *, password: str, now: dt.datetime | None = None) -> list[str]:
    """Why the PKI in `pki.directory` is not usable (empty list: it is)."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        root = x509.load_pem_x509_certificate(pki.root_cert_path.read_bytes())
        tsa_cert = x509.load_pem_x509_certificate(pki.tsa_cert_path.read_bytes())
        tsa_key = serialization.load_pem_private_key(pki.tsa_key_path.read_bytes(), password=None)
        key, cert, _chain = pkcs12.load_key_and_certificates(pki.signing_pkcs12_path.read_bytes(), password.encode())
    except FileNotFoundError as exc:
        return [f"missing {exc.filename}"]
    except ValueError as exc:
        return [f"unreadable PKI file (or a wrong SIGNING_PKCS12_PASSWORD): {exc}"]
    problems = []
    if key is None or cert is None:
        problems.append("signing.p12 holds no key and certificate")
        return problems
    for name, c in (("root", root), ("signing", cert), ("tsa", tsa_cert)):
        if c.not_valid_after_utc - RENEW_BEFORE < now:
            problems.append(f"{name} certificate expires on {c.not_valid_after_utc:%Y-%m-%d}")
    for name, c in (("signing", cert), ("tsa", tsa_cert)):
        try:
            c.verify_directly_issued_by(root)
        except (ValueError, TypeError, x509.InvalidSignature):
            problems.append(f"{name} certificate is not issued by root-ca.pem")
    if _public_der(key) != _public_der(cert):
        problems.append("signing key does not match its certificate")
    if _public_der(tsa_key) != _public_der(tsa_cert):
        problems.append("TSA key does not match its certificate")
    return problems


def create_dev_pki(pki: DevPki, *, password: str) -> DevPki:
    """Make a new root, signing certificate and TSA certificate, replacing whatever is there."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    root_key = _new_key()
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ISSUER_NAME),
            x509.NameAttribute(NameOID.COMMON_NAME, "电子证照开发测试根CA（仅供开发，不可信任）"),
        ]
    )
    root = (
        _builder(root_name, root_name, root_key.public_key(), now, ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )

    signing_key = _new_key()
    signing_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "北京市"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "北京市"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ISSUER_NAME),
            # ETSI EN 319 412-1 semantics: "NTR" + country + national registration number.
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"NTRCN-{ISSUER_USCC}"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, ISSUER_USCC),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{ISSUER_NAME}电子证照签章"),
        ]
    )
    signing_cert = (
        _builder(signing_name, root_name, signing_key.public_key(), now, SIGNING_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signing_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )

    tsa_key = _new_key()
    tsa_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ISSUER_NAME),
            x509.NameAttribute(NameOID.COMMON_NAME, "电子证照开发测试时间戳服务（仅供开发）"),
        ]
    )
    tsa_cert = (
        _builder(tsa_name, root_name, tsa_key.public_key(), now, TSA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        # RFC 3161 §2.3: the TSA certificate has exactly this EKU and it is critical.
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(tsa_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )

    p12 = pkcs12.serialize_key_and_certificates(
        name=b"commission-signing",
        key=signing_key,
        cert=signing_cert,
        cas=[root],
        encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
    )
    pem = serialization.Encoding.PEM
    pki.directory.mkdir(parents=True, exist_ok=True)
    # Secrets first with their final mode; the root certificate last, so that a reader that
    # sees the new root also sees the material issued under it.
    _write(pki.signing_pkcs12_path, p12, secret=True)
    _write(
        pki.tsa_key_path,
        tsa_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        secret=True,
    )
    _write(pki.tsa_cert_path, tsa_cert.public_bytes(pem))
    _write(pki.signing_cert_path, signing_cert.public_bytes(pem))
    _write(pki.root_cert_path, root.public_bytes(pem))
    return pki


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _builder(subject, issuer, public_key, now, validity) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + validity)
    )


def _key_usage(**enabled: bool) -> x509.KeyUsage:
    flags = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    flags.update(enabled)
    return x509.KeyUsage(**flags)


def _public_der(key_or_cert) -> bytes:
    return key_or_cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    """Atomic replace, so a concurrent reader sees the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
