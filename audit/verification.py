"""Recompute the audit chain and check it against the chain head and the signed checkpoints.

What each check catches (the first failure names the first bad sequence number):
- a row whose recomputed hash differs from its stored hash: that row was edited;
- a gap in 1, 2, 3, …: rows were deleted;
- a `prev_hash` that is not the previous row's hash: a row was inserted, moved or swapped (or
  the previous row was edited and re-hashed);
- a signed checkpoint that names a sequence number beyond the end of the chain, or a different
  hash at its sequence number: the tail was cut off, or history before it was rewritten;
- the chain head row (updated with every append) not matching the chain: a tail cut off or rows
  appended outside `record_event`.
"""

import datetime as dt
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field

from cryptography import x509

from audit import chain, signing
from audit.models import AuditChainHead, AuditCheckpoint, AuditEvent


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    created_at: dt.datetime
    signature: str
    certificate: str
    origin: str  # "database" or the exported file's name

    @classmethod
    def from_model(cls, checkpoint: AuditCheckpoint) -> "Checkpoint":
        return cls(
            seq=checkpoint.seq,
            hash=checkpoint.hash,
            created_at=checkpoint.created_at,
            signature=checkpoint.signature,
            certificate=checkpoint.certificate,
            origin="database",
        )

    def as_json(self) -> dict:
        return {
            "seq": self.seq,
            "hash": self.hash,
            "created_at": self.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "signature": self.signature,
            "certificate": self.certificate,
        }


def read_checkpoint_file(path) -> list[Checkpoint]:
    """Checkpoints written by `manage.py export_checkpoints` (one JSON object per line)."""
    checkpoints = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                checkpoints.append(
                    Checkpoint(
                        seq=int(item["seq"]),
                        hash=str(item["hash"]),
                        created_at=dt.datetime.fromisoformat(item["created_at"]),
                        signature=str(item["signature"]),
                        certificate=str(item["certificate"]),
                        origin=f"{path}:{number}",
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}, line {number}: not a checkpoint ({exc})") from exc
    return checkpoints


@dataclass
class VerificationResult:
    ok: bool = True
    events_checked: int = 0
    last_seq: int = 0
    last_hash: str = chain.GENESIS_HASH
    checkpoints_checked: int = 0
    first_bad_seq: int | None = None
    problem: str = ""
    duration_ms: int = 0
    notes: list[str] = field(default_factory=list)

    def fail(self, seq: int, problem: str) -> None:
        if self.ok:
            self.ok, self.first_bad_seq, self.problem = False, seq, problem


_STREAM_FIELDS = (*chain.HASHED_FIELDS, "prev_hash", "hash")


def _check_signatures(checkpoints: list[Checkpoint], result: VerificationResult) -> None:
    try:
        trusted = signing.load_commission_key().fingerprint
    except signing.CommissionKeyUnavailable as exc:
        trusted = None
        result.notes.append(f"signer not compared with the commission certificate: {exc}")
    for cp in sorted(checkpoints, key=lambda c: c.seq):
        payload = signing.checkpoint_payload(seq=cp.seq, hash=cp.hash, created_at=cp.created_at)
        if not signing.signature_valid(payload, cp.signature, cp.certificate):
            result.fail(cp.seq, f"checkpoint #{cp.seq} ({cp.origin}): signature does not verify")
            return
        if trusted is not None:
            cert = x509.load_pem_x509_certificate(cp.certificate.encode("ascii"))
            if signing.certificate_fingerprint(cert) != trusted:
                result.fail(cp.seq, f"checkpoint #{cp.seq} ({cp.origin}): not signed by the commission certificate")
                return


def verify_chain(*, extra_checkpoints: list[Checkpoint] = (), chunk_size: int = 5000) -> VerificationResult:
    """Stream every event in sequence order and check it; stop at the first problem."""
    started = time.monotonic()
    result = VerificationResult()
    # Read the head and the checkpoints before the events: everything they name was committed
    # before the stream starts, so concurrent appends cannot cause a false alarm.
    head_before = AuditChainHead.objects.filter(pk=1).values("seq", "hash").first()
    checkpoints = [Checkpoint.from_model(cp) for cp in AuditCheckpoint.objects.order_by("seq")]
    checkpoints += list(extra_checkpoints)
    result.checkpoints_checked = len(checkpoints)
    _check_signatures(checkpoints, result)

    expected: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for cp in checkpoints:
        expected[cp.seq].append((cp.hash, f"signed checkpoint #{cp.seq} ({cp.origin})"))
    if head_before and head_before["seq"]:
        expected[head_before["seq"]].append((head_before["hash"], "chain head"))

    next_seq, prev_hash = 1, chain.GENESIS_HASH
    rows = AuditEvent.objects.order_by("seq").values(*_STREAM_FIELDS).iterator(chunk_size=chunk_size)
    for row in rows:
        if not result.ok:
            break
        seq = row["seq"]
        if seq != next_seq:
            result.fail(next_seq, f"event #{next_seq} is missing (next present is #{seq}): events were deleted")
            break
        if row["prev_hash"] != prev_hash:
            result.fail(seq, f"event #{seq} does not link to event #{seq - 1}: an event was inserted or moved")
            break
        if chain.event_hash(prev_hash, chain.canonical_event(row)) != row["hash"]:
            result.fail(seq, f"event #{seq} does not match its hash: it was edited")
            break
        for hash_, what in expected.pop(seq, ()):
            if hash_ != row["hash"]:
                result.fail(seq, f"event #{seq} differs from the {what}: history was rewritten")
        prev_hash = row["hash"]
        next_seq += 1
        result.events_checked += 1
    result.last_seq, result.last_hash = next_seq - 1, prev_hash

    if result.ok and expected:
        beyond = min(expected)
        whats = ", ".join(what for _, what in expected[beyond])
        result.fail(
            result.last_seq + 1,
            f"the chain ends at #{result.last_seq} but the {whats} names #{beyond}: the tail was removed",
        )
    if result.ok:
        # Events beyond the head read at the start may be legitimate new appends, but then the
        # head has moved with them by now (record_event updates it in the same transaction).
        head_after = AuditChainHead.objects.filter(pk=1).values("seq", "hash").first()
        head_seq = head_after["seq"] if head_after else 0
        if head_seq < result.last_seq:
            result.fail(
                head_seq + 1,
                f"events #{head_seq + 1}…#{result.last_seq} are beyond the chain head: written outside record_event",
            )
        elif head_seq == result.last_seq and result.last_seq and head_after["hash"] != result.last_hash:
            result.fail(result.last_seq, f"event #{result.last_seq} differs from the chain head: it was replaced")
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result
