"""A development PKI for the whole test session, made by the real `init_dev_pki` command in the
run's own VAR_DIR (tests/bootstrap.py), so tests sign and validate with real keys."""

import io

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def dev_pki():
    from licensing import pki, signing

    call_command("init_dev_pki", stdout=io.StringIO(), stderr=io.StringIO())
    signing.reset_commission_signer()
    return pki.default_pki()
