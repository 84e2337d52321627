"""Annotated copies (加注件) made by a real Celery worker: signed, watermarked, own identifier."""

import time

import pytest

from licensing.validation import validate_pdf
from registry.validators import validate_identifier
from tests.access.conftest import MORTGAGE, api, consent, make_valid
from tests.licensing.conftest import dev_pki  # noqa: F401 - the session PKI fixture

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_makes_a_signed_annotated_copy_in_a_worker(dev_pki, celery_worker, orgs, purposes, sysadmin, bank_key):  # noqa: F811
    licence = make_valid()
    consent(sysadmin, orgs.bank, licence, [purposes[MORTGAGE]], max_uses=5)
    call = api(bank_key.header)
    created = call("post", f"/api/v1/licenses/{licence.identifier}/annotated-copies", MORTGAGE)
    assert created.status_code == 202, created.content
    copy_id = created.json()["id"]
    assert created.json()["watermark"].startswith(f"仅供{orgs.bank.name}用于抵押贷款审查，有效期至")
    url = f"/api/v1/licenses/{licence.identifier}/annotated-copies/{copy_id}"
    deadline = time.monotonic() + 90
    while True:
        state = call("get", url, MORTGAGE).json()
        if state["state"] != "PENDING" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert state["state"] == "READY", state
    validate_identifier(state["identifier"])
    assert state["identifier"] != licence.identifier and f"{licence.serial}J" in state["identifier"]
    download = call("get", f"{url}/file", MORTGAGE)
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    check = validate_pdf(data)
    assert check.intact and check.trusted, check.problems
    # Another purpose, or another organisation, cannot reach the copy.
    assert call("get", url, "NOTARISATION").status_code == 404
