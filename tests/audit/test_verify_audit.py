import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.checkpoints import create_checkpoint
from audit.models import AuditCheckpoint, AuditEvent, AuditVerification
from audit.services import record_event
from audit.tasks import sign_checkpoint
from audit.verification import verify_chain
from tests.audit.conftest import make_pkcs12


def _seed(n):
    for i in range(n):
        record_event(action="license.read", reason=f"第{i + 1}次", details={"i": i})


def disable_append_only_triggers():
    """What an intruder with the table owner's rights would do first (PostgreSQL only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Deferred foreign-key checks of the test's own inserts must run before ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE audit_auditcheckpoint DISABLE TRIGGER USER")


def _raw(sql, params=()):
    disable_append_only_triggers()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_reports_an_intact_chain_and_stores_the_outcome(db, commission_key, capsys):
    _seed(5)
    create_checkpoint()
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "audit chain intact: 5 events, 1 checkpoints, head #5" in out
    stored = AuditVerification.objects.get()
    assert stored.ok and stored.events_checked == 5 and stored.first_bad_seq is None


def test_it_names_the_first_edited_event(db, commission_key):
    _seed(6)
    _raw("UPDATE audit_auditevent SET reason = %s WHERE seq = 4", ["改过"])
    with pytest.raises(CommandError, match=r"broken at #4: event #4 does not match its hash") as raised:
        call_command("verify_audit")
    assert raised.value.returncode == 1
    assert AuditVerification.objects.get().first_bad_seq == 4


def test_it_detects_a_cut_tail_from_the_chain_head_alone(db):
    _seed(5)
    _raw("DELETE FROM audit_auditevent WHERE seq > 3")
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == 4 and "chain head" in result.problem


def test_it_detects_a_cut_tail_from_an_exported_checkpoint_when_the_database_was_cleaned_up(
    db, commission_key, tmp_path
):
    _seed(5)
    sign_checkpoint()
    exported = tmp_path / "checkpoints.jsonl"
    call_command("export_checkpoints", output=str(exported))
    line = json.loads(exported.read_text())
    assert line["seq"] == 5 and line["hash"] == AuditEvent.objects.get(seq=5).hash

    # A careful intruder removes the tail, its checkpoint, and resets the head row.
    _raw("DELETE FROM audit_auditevent WHERE seq > 3")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditcheckpoint")
        cursor.execute(
            "UPDATE audit_auditchainhead SET seq = 3, hash = (SELECT hash FROM audit_auditevent WHERE seq = 3)"
        )
    call_command("verify_audit", "--no-record")  # the database alone now looks intact
    with pytest.raises(CommandError, match=r"broken at #4: .*names #5: the tail was removed"):
        call_command("verify_audit", "--checkpoints", str(exported))


def test_it_rejects_a_checkpoint_not_signed_by_the_commission(db, commission_key, tmp_path, settings):
    _seed(2)
    create_checkpoint()
    other = tmp_path / "other.p12"
    make_pkcs12(other, "another-password", common_name="冒充者")
    settings.SIGNING_PKCS12_PATH, settings.SIGNING_PKCS12_PASSWORD = str(other), "another-password"
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == 2 and "not signed by the commission certificate" in result.problem


def test_it_signs_a_checkpoint_only_when_the_chain_moved(db, commission_key):
    assert create_checkpoint() is None  # empty chain: nothing to sign
    _seed(3)
    first = create_checkpoint()
    assert (first.seq, first.certificate_fingerprint) == (3, commission_key.fingerprint)
    assert create_checkpoint() is None
    record_event(action="auth.login")
    assert create_checkpoint().seq == 4
    assert AuditCheckpoint.objects.count() == 2


def test_it_explains_a_missing_signing_key(db, settings, tmp_path):
    _seed(1)
    settings.SIGNING_PKCS12_PATH = str(tmp_path / "absent.p12")
    from audit.signing import CommissionKeyUnavailable

    with pytest.raises(CommissionKeyUnavailable, match="init_dev_pki"):
        create_checkpoint()


def test_it_refuses_an_unreadable_checkpoint_file(db, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"seq": 1}\n')
    with pytest.raises(CommandError, match=r"line 1: not a checkpoint"):
        call_command("verify_audit", "--checkpoints", str(bad))


def test_it_leaves_a_checkpoint_and_a_verification_in_the_demo(db, commission_key):
    import io

    from audit import demo

    _seed(3)
    out = io.StringIO()
    demo.seed(credentials={}, previous={}, stdout=out)
    demo.seed(credentials={}, previous={}, stdout=out)
    assert AuditCheckpoint.objects.get().seq == 3  # signed once: the chain did not move
    assert AuditVerification.objects.filter(ok=True).count() == 2
    assert "chain of 3 events intact, checkpoint at #3" in out.getvalue()
