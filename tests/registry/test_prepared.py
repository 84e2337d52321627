"""PreparedRead: a hot read compiled once per connection returns what the queryset would."""

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from licensing.models import License
from registry.models import District
from registry.prepared import _UNPREPARABLE, PreparedRead
from tests.licensing.factories import make_draft

pytestmark = pytest.mark.django_db

_FIELDS = [f.attname for f in License._meta.concrete_fields]


def _by_pk():
    return PreparedRead(
        lambda pk: License.objects.select_related("license_type", "issuer", "property_unit__district").filter(pk=pk),
        f"test.by_pk.{id(object())}",
    )


def _same(a, b):
    assert [getattr(a, f) for f in _FIELDS] == [getattr(b, f) for f in _FIELDS]
    assert a.license_type == b.license_type and a.issuer == b.issuer and a.property_unit == b.property_unit
    assert a.property_unit.district == b.property_unit.district


def test_it_returns_the_same_instances_and_related_rows_as_the_queryset(clerk):
    drafts = [make_draft(clerk) for _ in range(3)]
    read = _by_pk()
    for draft in drafts:
        [prepared] = read(pk=draft.pk)
        _same(prepared, License.objects.get(pk=draft.pk))
        with CaptureQueriesContext(connection) as queries:
            assert prepared.property_unit.district.name  # loaded along, no further query
        assert len(queries) == 0
    assert read(pk=max(d.pk for d in drafts) + 1000) == []
    assert connection._prepared_reads[read.name] is not _UNPREPARABLE  # really compiled once


def test_it_binds_each_call_s_own_value_in_the_sql_compiled_once(clerk):
    first, second = make_draft(clerk), make_draft(clerk)
    read = _by_pk()
    read(pk=first.pk)
    with CaptureQueriesContext(connection) as queries:
        [row] = read(pk=second.pk)
    assert row.pk == second.pk
    assert len(queries) == 1


def test_it_falls_back_to_the_plain_queryset_when_a_value_is_rewritten():
    # `__startswith` turns the value into a LIKE pattern: the stand-in cannot be found, so the
    # read is evaluated as an ordinary queryset (and still correct).
    read = PreparedRead(lambda prefix: District.objects.filter(name__startswith=prefix), "test.startswith")
    assert {d.code for d in read(prefix="朝阳")} == set(
        District.objects.filter(name__startswith="朝阳").values_list("code", flat=True)
    )
    assert connection._prepared_reads["test.startswith"] is _UNPREPARABLE
    assert {d.code for d in read(prefix="海淀")} == {"110108"}


@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_locking_read_outside_a_transaction(clerk):
    draft = make_draft(clerk)
    read = PreparedRead(lambda pk: License.objects.select_for_update().filter(pk=pk), "test.locking")
    with transaction.atomic():
        assert [lic.pk for lic in read(pk=draft.pk)] == [draft.pk]
    with pytest.raises(TransactionManagementError):
        read(pk=draft.pk)
