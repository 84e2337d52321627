"""Making checkpoints: the signed chain head."""

from django.db import transaction
from django.utils import timezone

from audit import signing
from audit.models import AuditCheckpoint, AuditEvent


def create_checkpoint(*, key: signing.CommissionKey | None = None) -> AuditCheckpoint | None:
    """Sign the current last event's (seq, hash) with the time; None if there is nothing new.

    Idempotent in effect: a redelivered task finds the head already signed and does nothing.
    """
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    if last is None:
        return None
    if AuditCheckpoint.objects.filter(seq=last["seq"], hash=last["hash"]).exists():
        return None
    key = key or signing.load_commission_key()
    created_at = timezone.now()
    payload = signing.checkpoint_payload(seq=last["seq"], hash=last["hash"], created_at=created_at)
    with transaction.atomic():
        checkpoint = AuditCheckpoint(
            seq=last["seq"],
            hash=last["hash"],
            created_at=created_at,
            signature=signing.sign(payload, key),
            certificate=key.certificate_pem,
            certificate_fingerprint=key.fingerprint,
        )
        checkpoint.save()
    return checkpoint
