import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from audit import chain
from audit.context import acting_as, acting_as_system
from audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from audit.services import event_values, record_event
from tests.audit.conftest import CERTIFICATE_NUMBER, IDENTIFIER, FakeLicence


def _recomputed(event):
    return chain.event_hash(event.prev_hash, chain.canonical_event(event_values(event)))


def test_it_writes_exactly_one_event_linked_to_the_previous_one(clerk, bank):
    first = record_event(action="license.issue", actor=clerk, target=bank, reason="首次登记")
    second = record_event(action="license.read", organisation=bank, purpose="MORTGAGE_LOAN", details={"fields": ["a"]})

    assert AuditEvent.objects.count() == 2
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == chain.GENESIS_HASH
    assert second.prev_hash == first.hash
    stored = AuditEvent.objects.get(seq=2)
    assert stored.hash == _recomputed(stored) == second.hash
    assert AuditEvent.objects.get(seq=1).hash == _recomputed(AuditEvent.objects.get(seq=1))
    assert first.actor == clerk and first.actor_repr == "clerk"
    assert first.target_type == "registry.requestingorganisation" and first.target_id == str(bank.pk)
    assert second.organisation == bank and second.actor is None and second.actor_repr == "系统"
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (2, second.hash)


def test_it_copies_licence_identifier_and_certificate_number_from_the_target(db):
    event = record_event(action="license.issue", target=FakeLicence(pk=42))
    assert event.license_identifier == IDENTIFIER
    assert event.certificate_number == CERTIFICATE_NUMBER
    assert event.target_repr == CERTIFICATE_NUMBER and event.target_id == "42"


def test_it_takes_actor_correlation_and_address_from_the_context(clerk, bank):
    with acting_as(clerk, correlation_id="req-0123456789", remote_addr="10.1.2.3", organisation=bank):
        event = record_event(action="license.read")
    assert (event.actor, event.correlation_id, event.remote_addr, event.organisation) == (
        clerk,
        "req-0123456789",
        "10.1.2.3",
        bank,
    )
    with acting_as_system("verify_audit"):
        event = record_event(action="license.verify")
    assert event.actor is None and event.actor_repr == "系统（verify_audit）" and len(event.correlation_id) == 36


def test_it_rolls_the_callers_action_back_when_the_audit_write_fails(db, monkeypatch):
    def broken(values):
        raise RuntimeError("disk full")

    monkeypatch.setattr(chain, "canonical_event", broken)
    with pytest.raises(RuntimeError, match="disk full"), transaction.atomic():
        Group.objects.create(name="written by the action")
        record_event(action="license.issue")
    assert not Group.objects.filter(name="written by the action").exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "license.frobnicate"}, "unknown audit action"),
        ({"action": "license.issue", "result": "MAYBE"}, "audit result must be one of"),
        ({"action": "license.read", "details": {"holder": {"id_number": "110105199003071239"}}}, "details.holder"),
        ({"action": "license.read", "details": ["not", "a", "dict"]}, "must be a dict"),
    ],
)
def test_it_refuses_bad_input_and_writes_nothing(db, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        record_event(**kwargs)
    assert not AuditEvent.objects.exists()


def test_it_refuses_to_change_or_delete_an_event_through_the_orm(db):
    event = record_event(action="auth.login")
    event.reason = "edited"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=event.seq).update(reason="edited")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().reason == ""
