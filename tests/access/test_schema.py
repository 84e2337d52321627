"""schemathesis against /api/schema/: every operation, called as the OpenAPI document describes it
with a valid key and purpose, gives no server error and no response that breaks the schema.

The schema is loaded from the WSGI app inside the test (the pytest plugin's lazy loader does not
work with pytest 9), and each operation runs a bounded Hypothesis search (25 examples).
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.access.conftest import MORTGAGE, consent, make_valid


@pytest.mark.django_db
def test_it_conforms_to_its_openapi_document(orgs, purposes, sysadmin, bank_key, settings_rate):
    from config.wsgi import application

    # Real data behind the generated calls: one licence the bank may read, with uses to spare.
    licence = make_valid()
    consent(sysadmin, orgs.bank, licence, [purposes[MORTGAGE]], max_uses=100_000)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:
        headers = {"Authorization": bank_key.header}
        if any(p.name == "X-Purpose" for p in operation.headers or []):
            headers["X-Purpose"] = MORTGAGE
        _explore(operation, headers)
        # And once with the real licence, so the success path is checked against the schema too.
        if "{identifier}" in operation.path and "copy_id" not in operation.path:
            case = operation.Case(path_parameters={"identifier": licence.identifier})
            case.call_and_validate(headers=headers)


def _explore(operation, headers):
    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        case.call_and_validate(headers=headers)

    run()


@pytest.fixture
def settings_rate(settings):
    settings.ACCESS_API_RATE = "100000/min"  # the schema run is not about rate limits
    # Calls go through the real WSGI handler, which closes the database connection after each
    # request; Django's test client unhooks that too, or the test's transaction would be lost.
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
