"""Tampering with raw SQL, as an intruder with the table owner's rights would (triggers disabled),
is detected by verify_audit in every generated case, at the right sequence number.

The chain is built once per test; each case mutates it inside a savepoint that is rolled back.
"""

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import chain
from audit.checkpoints import create_checkpoint
from audit.context import acting_as
from audit.models import AuditEvent
from audit.services import record_event
from audit.verification import verify_chain
from tests.audit.test_verify_audit import disable_append_only_triggers

N = 30
TEXT_COLUMNS = [
    "reason",
    "actor_repr",
    "api_key_repr",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "license_identifier",
    "certificate_number",
    "result",
    "purpose",
    "correlation_id",
    "remote_addr",
]
OTHER_COLUMNS = ["actor_id", "organisation_id", "occurred_at", "details"]
COLUMNS = TEXT_COLUMNS + OTHER_COLUMNS + ["prev_hash"]
FIELDS = (*chain.HASHED_FIELDS, "prev_hash", "hash")

short_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=8
)
seqs = st.integers(min_value=1, max_value=N)

mutations = st.one_of(
    st.tuples(st.just("edit"), seqs, st.sampled_from([*COLUMNS, "hash", "seq"]), st.randoms(use_true_random=False)),
    st.tuples(st.just("edit_rehash"), seqs, st.sampled_from(COLUMNS), st.randoms(use_true_random=False)),
    st.tuples(st.just("delete"), seqs),
    st.tuples(st.just("insert"), st.integers(min_value=1, max_value=N + 1), short_text),
    st.tuples(st.just("swap"), seqs, seqs).filter(lambda m: m[1] != m[2]),
    st.tuples(st.just("truncate"), st.integers(min_value=0, max_value=N - 1), st.booleans()),
)


def _sql(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _json_placeholder():
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def _db_value(column, value):
    if column == "occurred_at":
        return connection.ops.adapt_datetimefield_value(value)
    if column == "details":
        return json.dumps(value)
    return value


def _set(seq, values: dict):
    assignments = ", ".join(f"{col} = {_json_placeholder() if col == 'details' else '%s'}" for col in values)
    _sql(
        f"UPDATE audit_auditevent SET {assignments} WHERE seq = %s",  # noqa: S608 - column names are ours
        [*(_db_value(c, v) for c, v in values.items()), seq],
    )


def _insert(values: dict):
    cols = list(values)
    marks = ", ".join(_json_placeholder() if c == "details" else "%s" for c in cols)
    sql = f"INSERT INTO audit_auditevent ({', '.join(cols)}) VALUES ({marks})"  # noqa: S608 - column names are ours
    _sql(sql, [_db_value(c, values[c]) for c in cols])


def _different(column, old, rnd, ids):
    """A new value for `column`, never equal to `old`."""
    if column in ("actor_id", "organisation_id"):
        return rnd.choice([i for i in [None, *ids[column]] if i != old])
    if column == "occurred_at":
        return old + dt.timedelta(microseconds=rnd.choice([-1, 1]) * rnd.randint(1, 10**9))
    if column == "details":
        return {**old, "forged": rnd.randint(0, 10**6)}
    if column in ("hash", "prev_hash"):
        new = f"{rnd.getrandbits(256):064x}"
        return new if new != old else "f" * 64
    new = "".join(rnd.choice("abc改證xyz019") for _ in range(rnd.randint(1, 8)))
    return new if new != old else new + "!"


def _apply(mutation, rows, ids) -> int:
    """Tamper as described; return the sequence number verify_audit must name."""
    kind = mutation[0]
    if kind == "edit":
        _, seq, column, rnd = mutation
        if column == "seq":
            _set(seq, {"seq": seq + 1000})  # move an event out of its place
        else:
            _set(seq, {column: _different(column, rows[seq][column], rnd, ids)})
        return seq
    if kind == "edit_rehash":
        # A careful intruder re-computes the edited event's own hash; its successor (or the
        # signed checkpoint at the head) still names the old one.
        _, seq, column, rnd = mutation
        new = {**rows[seq], column: _different(column, rows[seq][column], rnd, ids)}
        new_hash = chain.event_hash(new["prev_hash"], chain.canonical_event(new))
        _set(seq, {column: new[column], "hash": new_hash})
        if column == "prev_hash":
            return seq
        return seq + 1 if seq < N else N
    if kind == "delete":
        _sql("DELETE FROM audit_auditevent WHERE seq = %s", [mutation[1]])
        return mutation[1]
    if kind == "insert":
        # Shift the later events up by one and put a forged, correctly linked event in the gap.
        _, at, reason = mutation
        _sql("UPDATE audit_auditevent SET seq = -(seq + 1) WHERE seq >= %s", [at])
        _sql("UPDATE audit_auditevent SET seq = -seq WHERE seq < 0")
        template = rows[max(at - 1, 1)]
        forged = {
            **template,
            "seq": at,
            "reason": reason,
            "prev_hash": rows[at - 1]["hash"] if at > 1 else chain.GENESIS_HASH,
        }
        forged["hash"] = chain.event_hash(forged["prev_hash"], chain.canonical_event(forged))
        _insert(forged)
        if at <= N - 1:
            return at + 1  # the displaced event no longer links
        return N if at == N else N + 1  # the checkpoint at N, or the chain head, catches it
    if kind == "swap":
        _, i, j = mutation
        content = {c: rows[j][c] for c in FIELDS if c != "seq"}
        other = {c: rows[i][c] for c in FIELDS if c != "seq"}
        _set(i, content)
        _set(j, other)
        return min(i, j)
    if kind == "truncate":
        _, keep, fix_head = mutation
        _sql("DELETE FROM audit_auditevent WHERE seq > %s", [keep])
        if fix_head:
            last_hash = rows[keep]["hash"] if keep else chain.GENESIS_HASH
            _sql("UPDATE audit_auditchainhead SET seq = %s, hash = %s", [keep, last_hash])
        return keep + 1
    raise AssertionError(kind)


@pytest.fixture
def tamperable_chain(clerk, approver, bank, court, commission_key):
    for i in range(N):
        with acting_as([clerk, approver, None][i % 3], remote_addr=f"10.0.0.{i}"):
            record_event(
                action=["license.issue", "license.read", "license.cancel"][i % 3],
                organisation=[bank, court, None][i % 3],
                reason=f"原因{i}",
                purpose="MORTGAGE_LOAN" if i % 2 else "",
                details={"fields": ["location"], "n": i},
            )
    create_checkpoint()
    assert verify_chain().ok
    disable_append_only_triggers()
    rows = {row["seq"]: row for row in AuditEvent.objects.values(*FIELDS)}
    ids = {
        "actor_id": list(get_user_model().objects.values_list("pk", flat=True)),
        "organisation_id": [bank.pk, court.pk],
    }
    return rows, ids


def test_it_detects_every_raw_sql_tampering_at_the_first_bad_sequence_number(tamperable_chain):
    rows, ids = tamperable_chain
    cases = []

    @settings(
        max_examples=1100,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(mutation=mutations)
    def check(mutation):
        with transaction.atomic():
            expected = _apply(mutation, rows, ids)
            result = verify_chain()
            transaction.set_rollback(True)
        cases.append(mutation[0])
        assert not result.ok, f"{mutation[:3]} went unnoticed"
        assert result.first_bad_seq == expected, (mutation[:3], result.problem)

    check()
    assert verify_chain().ok  # every case was rolled back
    assert len(cases) >= 1000
    assert set(cases) == {"edit", "edit_rehash", "delete", "insert", "swap", "truncate"}
