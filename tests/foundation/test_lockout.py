"""Sign-in lockout (django-axes): repeated wrong passwords for one username from one address lock
that pair out, every refused attempt is an audit event, and the security administrator lifts it."""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from audit.models import AuditEvent
from registry import roles
from tests.conftest import _make_user

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def _sign_in(client: Client, username: str, password: str, address: str = "10.0.0.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_wrong_passwords_lock_the_name_out_from_that_address(settings, clerk):
    settings.AXES_FAILURE_LIMIT = 5
    client = Client()
    answers = [_sign_in(client, "clerk", "wrong-password").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]  # the form again four times; the fifth locks

    refused = _sign_in(client, "clerk", "pw-clerk-Secret1")  # even the right password now
    assert refused.status_code == 429
    assert "已暂停登录" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.login_failed").count() >= 5
    locked = AuditEvent.objects.filter(action="auth.locked_out")
    assert locked.exists() and all(event.details["username"] == "clerk" for event in locked)

    # A guesser elsewhere cannot lock the clerk out of their own desk.
    other_desk = _sign_in(Client(), "clerk", "pw-clerk-Secret1", address="10.0.0.8")
    assert other_desk.status_code == 302 and other_desk["Location"] == "/admin/"


def test_the_security_admin_sees_and_lifts_a_lockout(settings, clerk, role_groups):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        _sign_in(Client(), "clerk", "wrong-password")
    assert _sign_in(Client(), "clerk", "pw-clerk-Secret1").status_code == 429

    security = _make_user("security", roles.SECURITY_ADMIN, staff=True)
    roles.ensure_role_groups()
    admin = Client()
    admin.force_login(security)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "clerk" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="clerk")
    deleted = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302

    assert _sign_in(Client(), "clerk", "pw-clerk-Secret1").status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(settings, clerk):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(2):
        _sign_in(client, "clerk", "wrong-password")
    assert _sign_in(client, "clerk", "pw-clerk-Secret1").status_code == 302
    client.logout()
    for _ in range(2):
        _sign_in(client, "clerk", "wrong-password")
    assert _sign_in(client, "clerk", "pw-clerk-Secret1").status_code == 302  # 2 + 2 failures never reached 3
