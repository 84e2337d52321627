import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID


def make_pkcs12(path, password: str, common_name: str = "测试委员会签章") -> None:
    """A throw-away key and self-signed certificate, standing in for `init_dev_pki`'s output."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"commission", key, cert, None, BestAvailableEncryption(password.encode())
        )
    )


@pytest.fixture
def commission_key(tmp_path, settings):
    path = tmp_path / "commission.p12"
    make_pkcs12(path, "p12-test-password")
    settings.SIGNING_PKCS12_PATH = str(path)
    settings.SIGNING_PKCS12_PASSWORD = "p12-test-password"
    from audit.signing import load_commission_key

    return load_commission_key()


IDENTIFIER = "1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.20260001234.001.5"
CERTIFICATE_NUMBER = "京(2026)朝阳区不动产权第0001234号"


class FakeLicence:
    """Stands in for licensing.Licence (another branch): what record_event reads of a target."""

    def __init__(self, identifier=IDENTIFIER, certificate_number=CERTIFICATE_NUMBER, pk=1):
        from registry.models import RequestingOrganisation

        self.identifier, self.certificate_number, self.pk = identifier, certificate_number, pk
        self._meta = RequestingOrganisation._meta  # any model's _meta: only app_label/model_name are read

    def __str__(self):
        return self.certificate_number
