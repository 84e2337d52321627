import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from audit.services import record_event
from audit.verification import verify_chain
from tests.concurrency import run_at_once

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger and row locks exist on PostgreSQL only"
)


def _refused(sql, params=()):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@postgres_only
def test_it_refuses_update_and_delete_in_the_database_even_to_raw_sql(db):
    event = record_event(action="auth.login")
    _refused("UPDATE audit_auditevent SET reason = 'edited' WHERE seq = %s", [event.seq])
    _refused("DELETE FROM audit_auditevent WHERE seq = %s", [event.seq])
    assert AuditEvent.objects.get().reason == ""


@postgres_only
def test_it_refuses_every_change_to_an_application_role_including_truncate(db):
    record_event(action="auth.login")
    role = f"audit_probe_{uuid.uuid4().hex[:12]}"  # roles are cluster-wide: never reuse a name
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT ALL ON audit_auditevent, audit_auditcheckpoint TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
    try:
        _refused("UPDATE audit_auditevent SET reason = 'edited'")
        _refused("DELETE FROM audit_auditevent")
        _refused("TRUNCATE audit_auditevent")
        _refused("TRUNCATE audit_auditcheckpoint")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert AuditEvent.objects.count() == 1


@postgres_only
def test_it_keeps_one_unbroken_chain_under_concurrent_writers(transactional_db):
    threads_n, per_thread = 8, 25

    def writer(number):
        for i in range(per_thread):
            with transaction.atomic():
                record_event(action="license.read", reason=f"writer {number} event {i}")

    run_at_once(writer, [(n,) for n in range(threads_n)])
    total = threads_n * per_thread
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, total + 1))
    result = verify_chain()
    assert result.ok, result.problem
    assert result.events_checked == total
