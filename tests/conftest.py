"""The fixed cast of the tests: a clerk, an approver, an auditor, a bank operator, a court
officer and an outsider with no grants, plus a real Celery worker."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from registry import roles
from registry.models import OrganisationMember, OrganisationType, RequestingOrganisation


def _make_user(username: str, role: str | None, *, staff: bool):
    user = get_user_model().objects.create_user(
        username=username, password="pw-" + username + "-Secret1", is_staff=staff
    )
    if role:
        user.groups.add(Group.objects.get(name=roles.GROUP_NAMES[role]))
    return user


@pytest.fixture
def role_groups(db):
    return roles.ensure_role_groups()


@pytest.fixture
def clerk(role_groups):
    return _make_user("clerk", roles.CLERK, staff=True)


@pytest.fixture
def approver(role_groups):
    return _make_user("approver", roles.APPROVER, staff=True)


@pytest.fixture
def auditor(role_groups):
    return _make_user("auditor", roles.AUDIT_ADMIN, staff=True)


@pytest.fixture
def bank(db):
    return RequestingOrganisation.objects.create(
        name="中国工商银行股份有限公司北京市分行", uscc="91110000802100433B", org_type=OrganisationType.BANK
    )


@pytest.fixture
def court(db):
    return RequestingOrganisation.objects.create(
        name="北京市朝阳区人民法院", uscc="11110105MB0000004M", org_type=OrganisationType.COURT
    )


@pytest.fixture
def bank_operator(role_groups, bank):
    user = _make_user("bank_operator", roles.ORG_OPERATOR, staff=False)
    OrganisationMember.objects.create(user=user, organisation=bank, role=OrganisationMember.Role.OPERATOR)
    return user


@pytest.fixture
def court_officer(role_groups, court):
    user = _make_user("court_officer", roles.ORG_OPERATOR, staff=False)
    OrganisationMember.objects.create(user=user, organisation=court, role=OrganisationMember.Role.OPERATOR)
    return user


@pytest.fixture
def outsider(role_groups):
    return _make_user("outsider", None, staff=False)


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker in a thread, consuming from the configured broker (Redis in CI).

    Tasks run in the worker thread with their own database connection, so tests using it are
    transactional: the worker sees only committed data, as in production.
    """
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    # Messages left by earlier tests (enqueued on commit, never consumed) would only be no-ops,
    # but they would slow this worker down: start from an empty queue.
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30) as worker:
        yield worker


def pytest_collection_modifyitems(items):
    """Every transactional test restores the data migrations' rows (districts, licence types,
    the commission) when it starts: a plain transactional test empties every table afterwards.
    Mixing serialized and plain transactional tests would create content types twice, so all of
    them are serialized, whichever way they asked for a transactional database."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        transactional = (marker is not None and marker.kwargs.get("transaction")) or (
            {"transactional_db", "live_server"} & set(item.fixturenames)
        )
        if transactional:
            kwargs = {**(marker.kwargs if marker else {}), "transaction": True, "serialized_rollback": True}
            item.add_marker(pytest.mark.django_db(**kwargs), append=False)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hashers are deliberately slow; the tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
