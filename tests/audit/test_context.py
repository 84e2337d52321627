import time

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.auth.models import Group
from django.urls import reverse

from audit.context import acting_as, acting_as_system, current, get_correlation_id
from audit.models import AuditEvent
from tests.audit import probe


@pytest.fixture
def group_audited():
    """django-auditlog on a model of this branch's own (the domain apps register theirs)."""
    auditlog.register(Group)
    yield
    auditlog.unregister(Group)


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_it_keeps_a_well_formed_request_id_and_replaces_anything_else(client, db):
    response = client.get(reverse("healthz"), HTTP_X_REQUEST_ID="lb-2026-12-04-000001")
    assert response["X-Request-ID"] == "lb-2026-12-04-000001"
    response = client.get(reverse("healthz"), HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert response["X-Request-ID"] != "<script>alert(1)</script>" and len(response["X-Request-ID"]) == 36
    assert current().correlation_id == ""  # nothing leaks out of the request


def test_it_records_a_staff_sign_in_and_a_failed_one_without_the_password(client, clerk):
    response = client.post(
        reverse("admin:login"), {"username": "clerk", "password": "wrong-password-123"}, HTTP_X_REQUEST_ID="req-login-1"
    )
    assert response.status_code == 200  # the form again, with its error
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.result == "FAILURE" and failed.details == {"username": "clerk"} and failed.actor is None
    assert failed.correlation_id == "req-login-1" and failed.remote_addr == "127.0.0.1"
    assert "wrong-password" not in str(AuditEvent.objects.values_list()[:])

    response = client.post(reverse("admin:login"), {"username": "clerk", "password": "pw-clerk-Secret1"})
    assert response.status_code == 302
    login = AuditEvent.objects.get(action="auth.login")
    assert login.actor == clerk and login.result == "SUCCESS" and login.seq == failed.seq + 1


def test_it_gives_auditlog_the_same_actor_and_correlation_id_and_survives_nesting(db, clerk, approver, group_audited):
    with acting_as(clerk, correlation_id="outer-request-1", remote_addr="10.9.8.7"):
        with acting_as(approver):
            assert get_correlation_id() == "outer-request-1"  # inherited
            Group.objects.create(name="by approver")
        Group.objects.create(name="by clerk")
    with acting_as_system("seed_demo"):
        Group.objects.create(name="by the system")
    entries = {e.object_repr: e for e in LogEntry.objects.all()}
    assert entries["by approver"].actor == approver
    assert entries["by clerk"].actor == clerk  # auditlog alone would lose the outer actor here
    assert entries["by clerk"].cid == "outer-request-1" and entries["by clerk"].remote_addr == "10.9.8.7"
    assert entries["by the system"].actor is None and entries["by the system"].cid


def test_it_carries_the_request_id_and_user_into_a_task_run_by_a_real_worker(client, celery_worker, settings, clerk):
    settings.ROOT_URLCONF = probe.__name__
    client.force_login(clerk)
    response = client.get("/probe/", HTTP_X_REQUEST_ID="req-into-worker-42")
    assert response.content == b"queued"

    assert _wait_for(lambda: AuditEvent.objects.filter(action="license.verify").exists())
    event = AuditEvent.objects.get(action="license.verify")
    assert event.correlation_id == "req-into-worker-42"
    assert event.actor == clerk
    assert event.details == {"auditlog_cid": "req-into-worker-42"}


def test_it_names_the_task_as_the_system_actor_when_nobody_queued_it(celery_worker):
    probe.probe_task.delay()
    assert _wait_for(lambda: AuditEvent.objects.filter(action="license.verify").exists())
    event = AuditEvent.objects.get(action="license.verify")
    assert event.actor is None and event.actor_repr == "系统（tests.audit.probe_task）"
    assert len(event.correlation_id) == 36


def test_it_runs_a_management_command_as_the_named_system_actor(db):
    from django.core.management.base import BaseCommand

    from audit.context import SystemCommandMixin
    from audit.services import record_event

    class Command(SystemCommandMixin, BaseCommand):
        def handle(self, *args, **options):
            record_event(action="license.file")

    Command.__module__ = "licensing.management.commands.file_licences"
    Command().execute(no_color=True, force_color=False, skip_checks=True)
    event = AuditEvent.objects.get()
    assert event.actor is None and event.actor_repr == "系统（file_licences）" and event.correlation_id
